import { describe, expect, it } from 'vitest';
import { Random } from '../src/index.ts';

describe('Random', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(new Random(43).nextUint32()).not.toBe(xs[0]);
  });

  it('draws uniform numbers with the right mean and a standard normal with unit variance', () => {
    const r = new Random(7);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    let usum = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
      usum += r.next();
    }
    expect(Math.abs(usum / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });

  it('permutes every index exactly once, restores from state and forks independently', () => {
    const r = new Random(1);
    const p = r.permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const copy = Random.fromState(r.state());
    expect(copy.next()).toBe(r.next());
    const f1 = new Random(5).fork('split');
    const f2 = new Random(5).fork('split');
    expect(f1.next()).toBe(f2.next());
    expect(new Random(5).fork('augment').next()).not.toBe(new Random(5).fork('split').next());
  });
});
