import { describe, expect, it } from 'vitest';
import { int64, nhwcToNchw, numel, relL2, stats, tensor } from '../src/index.ts';

describe('tensor', () => {
  it('checks that data fills the shape', () => {
    expect(numel([2, 3, 4])).toBe(24);
    expect(() => tensor('float32', [2, 2], new Float32Array(3))).toThrow(/3 values do not fill shape \[2, 2\]/);
  });

  it('computes stats and relative L2 error by hand-checked numbers', () => {
    const s = stats(tensor('float32', [4], Float32Array.of(1, -3, 2, 4)));
    expect(s).toMatchObject({ min: -3, max: 4, mean: 1, absMax: 4 });
    expect(s.std).toBeCloseTo(Math.sqrt(6.5), 12);
    expect(relL2([1, 2, 2], [1, 2, 3])).toBeCloseTo(1 / Math.sqrt(14), 12);
    expect(int64([2], [3, 4]).data).toEqual(BigInt64Array.of(3n, 4n));
  });

  it('moves channels first and scales to [0, 1]', () => {
    // one 1x2 image, pixels (255,0,51) and (0,102,255)
    const t = nhwcToNchw(tensor('uint8', [1, 1, 2, 3], Uint8Array.of(255, 0, 51, 0, 102, 255)));
    expect(t.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(t.data)).toEqual([1, 0, 0, 0.4, 0.2, 1].map((v) => Math.fround(v)));
  });
});
