// The train/valid split: fastai's RandomSplitter, done over duplicate groups instead of single
// items so that identical files never land on both sides (which would leak valid into train).

import { Random } from '@paddock/tensor';

/**
 * Returns, for each item, whether it goes to the validation set.
 *
 * Algorithm (keep it stable: changing it changes every split):
 *  1. Items are given sorted by path; unitKeys[i] names item i's split unit (its duplicate group,
 *     or the item itself when its bytes are unique). Units are numbered in order of first item.
 *  2. perm = new Random(seed).permutation(nUnits) (Fisher–Yates over xoshiro128**).
 *  3. target = floor(validPct * nItems), the count fastai's RandomSplitter takes (int(valid_pct*n)).
 *  4. Walk perm in order; while the number of valid ITEMS is below target, the whole unit goes to
 *     valid. So with no duplicates exactly `target` items are valid (fastai's count); with
 *     duplicates the last unit may overshoot by at most its size − 1.
 * The same sorted folder and seed give the same split on every machine. (The indices differ from
 * fastai's own, whose permutation comes from torch's generator.)
 */
export function randomSplit(unitKeys: readonly string[], validPct: number, seed: number): boolean[] {
  const unitIndex = new Map<string, number>();
  const unitOf = unitKeys.map((k) => {
    let u = unitIndex.get(k);
    if (u === undefined) unitIndex.set(k, (u = unitIndex.size));
    return u;
  });
  const sizes = new Array<number>(unitIndex.size).fill(0);
  for (const u of unitOf) sizes[u]++;
  const target = Math.floor(validPct * unitKeys.length);
  const validUnit = new Array<boolean>(unitIndex.size).fill(false);
  let valid = 0;
  for (const u of new Random(seed).permutation(unitIndex.size)) {
    if (valid >= target) break;
    validUnit[u] = true;
    valid += sizes[u];
  }
  return unitOf.map((u) => validUnit[u]);
}
