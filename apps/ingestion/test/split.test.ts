import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Split, type DatasetManifest } from '@paddock/contracts';
import { Random } from '@paddock/tensor';
import { ingest, randomSplit } from '../src/index.ts';
import { image, put, tempDir } from './make-images.ts';

describe('randomSplit', () => {
  it('without duplicates is fastai\'s RandomSplitter: the first floor(pct·n) of the permutation', () => {
    for (const [n, pct, seed] of [[10, 0.2, 42], [23, 0.2, 7], [101, 0.25, 0], [5, 0.5, 3]] as const) {
      const keys = Array.from({ length: n }, (_, i) => `item${i}`);
      const perm = new Random(seed).permutation(n);
      const expected = new Set(perm.slice(0, Math.floor(pct * n)));
      const got = randomSplit(keys, pct, seed);
      expect(got.filter(Boolean)).toHaveLength(Math.floor(pct * n));
      expect(got.map((v, i) => v === expected.has(i))).toEqual(Array(n).fill(true));
    }
  });

  it('moves a duplicate group as one unit and stops once the target is reached', () => {
    // Units in first-appearance order: A(0,3), B(1), C(2,4,5), D(6). 7 items, target floor(0.5·7) = 3.
    const keys = ['A', 'B', 'C', 'A', 'C', 'C', 'D'];
    const units = [[0, 3], [1], [2, 4, 5], [6]];
    for (let seed = 0; seed < 20; seed++) {
      const perm = new Random(seed).permutation(4);
      const expected = new Array<boolean>(7).fill(false);
      let count = 0;
      for (const u of perm) {
        if (count >= 3) break;
        for (const i of units[u]) expected[i] = true;
        count += units[u].length;
      }
      const got = randomSplit(keys, 0.5, seed);
      expect(got).toEqual(expected);
      for (const members of units) expect(new Set(members.map((i) => got[i])).size).toBe(1);
    }
  });

  it('puts nothing in valid at valid_pct 0', () => {
    expect(randomSplit(['a', 'b', 'c'], 0, 42)).toEqual([false, false, false]);
  });
});

// 25 distinct images + 5 duplicate groups (sizes 2, 2, 3, 3, 4 → 14 files) over two labels.
const uniqueDir = tempDir('unique');
const copyDir = tempDir('copy');
const dupDir = tempDir('dups');

beforeAll(async () => {
  for (let i = 0; i < 25; i++) put(uniqueDir, `train_images/${i % 2 ? 'odd' : 'even'}/${i}.png`, await image('png', 8, 8, i));
  // The same files created in the opposite order elsewhere: directory order differs, paths do not.
  for (let i = 24; i >= 0; i--) put(copyDir, `train_images/${i % 2 ? 'odd' : 'even'}/${i}.png`, await image('png', 8, 8, i));
  let v = 100;
  for (const size of [2, 2, 3, 3, 4]) {
    const bytes = await image('png', 8, 8, v++);
    for (let k = 0; k < size; k++) put(dupDir, `train_images/${k % 2 ? 'b' : 'a'}/g${v}-${k}.png`, bytes);
  }
  for (let i = 0; i < 16; i++) put(dupDir, `train_images/${i % 2 ? 'b' : 'a'}/u${i}.png`, await image('png', 8, 8, 200 + i));
});
afterAll(() => {
  rmSync(uniqueDir, { recursive: true, force: true });
  rmSync(copyDir, { recursive: true, force: true });
  rmSync(dupDir, { recursive: true, force: true });
});

const splitOf = (m: DatasetManifest) => m.items.map((it) => `${it.path}:${it.split}`);

describe('ingest split', () => {
  it('holds out exactly floor(0.2·n) items when there are no duplicates', async () => {
    const m = await ingest({ dataDir: uniqueDir });
    expect(m.items).toHaveLength(25);
    expect(m.items.filter((x) => x.split === Split.VALID)).toHaveLength(5);
    expect([m.audit!.trainCount, m.audit!.validCount]).toEqual([20, 5]);
    const m30 = await ingest({ dataDir: uniqueDir, validPct: 0.3 });
    expect(m30.audit!.validCount).toBe(7); // floor(0.3·25) = floor(7.5)
  });

  it('gives the same split for the same seed and a different one for another seed', async () => {
    const a = await ingest({ dataDir: uniqueDir, seed: 42 });
    const b = await ingest({ dataDir: uniqueDir, seed: 42 });
    const c = await ingest({ dataDir: uniqueDir, seed: 43 });
    expect(splitOf(a)).toEqual(splitOf(b));
    expect(splitOf(c)).not.toEqual(splitOf(a));
    expect(c.audit!.validCount).toBe(5);
    const copy = await ingest({ dataDir: copyDir, seed: 42 });
    expect(splitOf(copy)).toEqual(splitOf(a));
    expect(copy.items.map((x) => x.sha256)).toEqual(a.items.map((x) => x.sha256));
  });

  it('never lets a duplicate group straddle train and valid, whatever the seed', async () => {
    const n = 30;
    for (let seed = 0; seed < 12; seed++) {
      const m = await ingest({ dataDir: dupDir, seed });
      expect(m.items).toHaveLength(n);
      expect(m.audit!.duplicates.map((g) => g.paths.length).sort()).toEqual([2, 2, 3, 3, 4]);
      for (const g of m.audit!.duplicates) {
        const sides = new Set(m.items.filter((x) => x.duplicateGroup === g.id).map((x) => x.split));
        expect(sides.size).toBe(1);
      }
      // target floor(0.2·30) = 6; the last group taken may add up to 3 more.
      expect(m.audit!.validCount).toBeGreaterThanOrEqual(6);
      expect(m.audit!.validCount).toBeLessThanOrEqual(9);
    }
  });
});
