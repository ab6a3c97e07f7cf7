import { describe, expect, it } from 'vitest';
import {
  accuracy, argmaxRows, blendTta, confusionMatrix, crossEntropy, errorRate, macroAverage, mostConfused,
  perClassMetrics, topKAccuracy, topLosses,
} from '../src/index.ts';

// 4 items, 3 classes. Row 3 is a tie between classes 0 and 1: argmax picks the first (0).
const probs = new Float32Array([
  0.7, 0.2, 0.1, // target 0 → predicted 0 ✓
  0.1, 0.3, 0.6, // target 1 → predicted 2 ✗ (target is 2nd)
  0.25, 0.25, 0.5, // target 2 → predicted 2 ✓
  0.4, 0.4, 0.2, // target 1 → predicted 0 ✗ (tie, target is 2nd)
]);
const targets = new Int32Array([0, 1, 2, 1]);

describe('argmaxRows', () => {
  it('takes the first maximum and never a NaN', () => {
    expect(Array.from(argmaxRows(probs, 3))).toEqual([0, 2, 2, 0]);
    expect(Array.from(argmaxRows(new Float32Array([NaN, 0.2, 0.5, 0.5, NaN, 0.1]), 3))).toEqual([2, 0]);
  });
  it('rejects a buffer that is not N×C', () => {
    expect(() => argmaxRows(new Float32Array(5), 3)).toThrow(/rows of 3/);
  });
});

describe('accuracy, errorRate, topKAccuracy, crossEntropy', () => {
  it('give the hand-computed values', () => {
    expect(accuracy(probs, targets, 3)).toBe(0.5);
    expect(errorRate(probs, [0, 1, 2, 1], 3)).toBe(0.5);
    expect(topKAccuracy(probs, targets, 3, 1)).toBe(0.5);
    expect(topKAccuracy(probs, targets, 3, 2)).toBe(1);
    // Targets [0, 1, 1, 2]: rows 0 and 1 hit; row 2's class 1 ties class 0 at 0.25 and ranks
    // behind it (lower index first) and behind class 2 → 3rd; row 3's class 2 is last → 2/4.
    expect(topKAccuracy(probs, [0, 1, 1, 2], 3, 2)).toBe(0.5);
    expect(topKAccuracy(probs, [0, 1, 1, 2], 3, 3)).toBe(1);
    // −(ln 0.7 + ln 0.3 + ln 0.5 + ln 0.4) / 4 = (0.356675 + 1.203973 + 0.693147 + 0.916291) / 4
    expect(crossEntropy(probs, targets, 3)).toBeCloseTo(0.792521, 5);
  });

  it('clamps a zero probability at 1e-12 instead of returning Infinity', () => {
    // −ln(1e-12) = 27.631021; −ln(1) = 0 → mean 13.815511
    expect(crossEntropy(new Float32Array([0, 1, 1, 0]), [0, 0], 2)).toBeCloseTo(13.815511, 5);
  });

  it('refuse bad targets and empty inputs', () => {
    expect(() => accuracy(probs, [0, 1, 3, 1], 3)).toThrow(/target 2 is 3/);
    expect(() => accuracy(probs, [0, 1], 3)).toThrow(/4 prediction rows but 2 targets/);
    expect(() => accuracy(new Float32Array(0), [], 3)).toThrow(/no predictions/);
    expect(() => topKAccuracy(probs, targets, 3, 0)).toThrow(/k must be/);
  });
});

describe('confusionMatrix and perClassMetrics', () => {
  const m = confusionMatrix(argmaxRows(probs, 3), targets, 3);

  it('counts actual rows against predicted columns', () => {
    expect(m).toEqual([
      [1, 0, 0],
      [1, 0, 1],
      [0, 0, 1],
    ]);
  });

  it('computes precision, recall, F1 and support, with 0/0 defined as 0', () => {
    const metrics = perClassMetrics(m, ['a', 'b', 'c']);
    expect(metrics[0]).toEqual({ label: 'a', precision: 0.5, recall: 1, f1: expect.closeTo(2 / 3, 12), support: 1 });
    // Class b is never predicted: precision 0/0 → 0; recall 0/2 = 0; F1 0/0 → 0.
    expect(metrics[1]).toEqual({ label: 'b', precision: 0, recall: 0, f1: 0, support: 2 });
    expect(metrics[2]).toEqual({ label: 'c', precision: 0.5, recall: 1, f1: expect.closeTo(2 / 3, 12), support: 1 });
    const macro = macroAverage(metrics);
    expect(macro.precision).toBeCloseTo(1 / 3, 12);
    expect(macro.recall).toBeCloseTo(2 / 3, 12);
    expect(macro.f1).toBeCloseTo(4 / 9, 12);
  });

  it('rejects a matrix whose size does not match the vocab', () => {
    expect(() => perClassMetrics(m, ['a', 'b'])).toThrow(/2×2/);
    expect(() => confusionMatrix([0, 5], [0, 1], 3)).toThrow(/prediction 1 is 5/);
  });
});

describe('mostConfused', () => {
  // vocab deliberately not sorted: ties must follow the label names, not the indices.
  const vocab = ['b', 'a', 'c'];
  const m = [
    [5, 2, 1],
    [2, 4, 0],
    [3, 2, 6],
  ];

  it('lists off-diagonal pairs by count, ties by actual then predicted name', () => {
    expect(mostConfused(m, vocab)).toEqual([
      { actual: 'c', predicted: 'b', count: 3 },
      { actual: 'a', predicted: 'b', count: 2 },
      { actual: 'b', predicted: 'a', count: 2 },
      { actual: 'c', predicted: 'a', count: 2 },
      { actual: 'b', predicted: 'c', count: 1 },
    ]);
  });

  it('drops pairs under minCount and never lists zero cells', () => {
    expect(mostConfused(m, vocab, 3)).toEqual([{ actual: 'c', predicted: 'b', count: 3 }]);
    expect(mostConfused(m, vocab, 0).some((p) => p.count === 0)).toBe(false);
  });
});

describe('blendTta', () => {
  const plain = new Float32Array([0.2, 0.8]);
  const aug = [new Float32Array([0.6, 0.4]), new Float32Array([0.4, 0.6])];

  it('is 0.75·mean(aug) + 0.25·plain by default (fastai lerp with beta 0.25)', () => {
    // mean(aug) = [0.5, 0.5]; 0.75·0.5 + 0.25·0.2 = 0.425; 0.75·0.5 + 0.25·0.8 = 0.575
    const out = blendTta(plain, aug);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out[0]).toBeCloseTo(0.425, 6);
    expect(out[1]).toBeCloseTo(0.575, 6);
    // Three runs: mean [0.3, 0.7]; 0.75·0.3 + 0.25·0.1 = 0.25; 0.75·0.7 + 0.25·0.9 = 0.75
    const three = blendTta(new Float32Array([0.1, 0.9]), [new Float32Array([0.3, 0.7]), new Float32Array([0.5, 0.5]), new Float32Array([0.1, 0.9])]);
    expect(three[0]).toBeCloseTo(0.25, 6);
    expect(three[1]).toBeCloseTo(0.75, 6);
  });

  it('gives mean(aug) at beta 0 and plain at beta 1', () => {
    expect(Array.from(blendTta(plain, aug, 0)).map((v) => +v.toFixed(6))).toEqual([0.5, 0.5]);
    expect(Array.from(blendTta(plain, aug, 1))).toEqual(Array.from(plain));
  });

  it('with useMax takes the elementwise max over plain and every augmented run', () => {
    // max(0.2, 0.6, 0.4) = 0.6; max(0.8, 0.4, 0.6) = 0.8 (max of plain and mean(aug) would give 0.5 first)
    expect(Array.from(blendTta(plain, aug, 0.25, true))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('rejects no runs and mismatched lengths', () => {
    expect(() => blendTta(plain, [])).toThrow(/no augmented/);
    expect(() => blendTta(plain, [new Float32Array(3)])).toThrow(/run 0 has 3/);
  });
});

describe('topLosses', () => {
  it('ranks rows by −ln p[target], largest first, with the predicted class and its probability', () => {
    // losses: row 0 −ln 0.7 = 0.3567, row 1 −ln 0.3 = 1.2040, row 2 −ln 0.5 = 0.6931, row 3 −ln 0.4 = 0.9163
    const top = topLosses(probs, targets, 3, 3);
    expect(top.map((t) => t.index)).toEqual([1, 3, 2]);
    expect(top[0].loss).toBeCloseTo(1.203973, 5);
    expect(top[1].loss).toBeCloseTo(0.916291, 5);
    expect(top[0]).toMatchObject({ predicted: 2, target: 1 });
    expect(top[0].probability).toBeCloseTo(0.6, 6);
    expect(top[1]).toMatchObject({ predicted: 0, target: 1 });
    expect(top[1].probability).toBeCloseTo(0.4, 6);
    expect(topLosses(probs, targets, 3, 10)).toHaveLength(4);
    expect(topLosses(probs, targets, 3, 0)).toEqual([]);
  });

  it('keeps row order for equal losses and rejects a bad k', () => {
    const same = new Float32Array([0.5, 0.5, 0.5, 0.5]);
    expect(topLosses(same, [0, 1], 2, 2).map((t) => t.index)).toEqual([0, 1]);
    expect(() => topLosses(probs, targets, 3, -1)).toThrow(/k must be/);
  });
});
