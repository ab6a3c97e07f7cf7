// Classification metrics on predictions held as plain typed arrays: probabilities N×C row-major
// (what get_preds returns after softmax), integer targets, and the confusion matrix built from them.
// Pure functions, float64 accumulation; the names follow fastai's metrics and Interpretation.

export type Targets = Int32Array | readonly number[];
export type Indices = Int32Array | readonly number[];

/** Number of rows in `probs`, after checking it is N×C and matches `targets` (when given). */
function rowsOf(probs: Float32Array, C: number, targets?: Targets): number {
  if (!(Number.isInteger(C) && C > 0)) throw new RangeError(`metrics: class count must be a positive integer, got ${C}`);
  if (probs.length % C !== 0) throw new RangeError(`metrics: ${probs.length} probabilities do not form rows of ${C} classes`);
  const n = probs.length / C;
  if (targets && targets.length !== n) throw new RangeError(`metrics: ${n} prediction rows but ${targets.length} targets`);
  if (targets) checkIndices(targets, C, 'target');
  return n;
}

function checkIndices(values: Indices, C: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < C)) throw new RangeError(`metrics: ${what} ${i} is ${v}, not a class index in [0, ${C})`);
  }
}

function nonEmpty(n: number, fn: string): void {
  // A mean over nothing is NaN in torch; an empty validation set is a pipeline bug, so say it.
  if (n === 0) throw new RangeError(`${fn}: no predictions to score`);
}

/** Index of the largest value in each row; the first one wins a tie (as torch.argmax does). */
export function argmaxRows(probs: Float32Array, C: number): Int32Array {
  const n = rowsOf(probs, C);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestValue = probs[i * C];
    for (let j = 1; j < C; j++) {
      const v = probs[i * C + j];
      // NaN never beats a number, and a NaN first entry is replaced by any number.
      if (v > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(v))) {
        best = j;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}

/** C×C counts: rows are the actual class, columns the predicted class (fastai's layout). */
export function confusionMatrix(preds: Indices, targets: Targets, C: number): number[][] {
  if (preds.length !== targets.length) throw new RangeError(`confusionMatrix: ${preds.length} predictions but ${targets.length} targets`);
  checkIndices(preds, C, 'prediction');
  checkIndices(targets, C, 'target');
  const m = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (let i = 0; i < preds.length; i++) m[targets[i]][preds[i]] += 1;
  return m;
}

/** Fraction of rows whose argmax is the target. */
export function accuracy(probs: Float32Array, targets: Targets, C: number): number {
  const n = rowsOf(probs, C, targets);
  nonEmpty(n, 'accuracy');
  const preds = argmaxRows(probs, C);
  let right = 0;
  for (let i = 0; i < n; i++) if (preds[i] === targets[i]) right++;
  return right / n;
}

/** fastai's error_rate: 1 − accuracy. */
export function errorRate(probs: Float32Array, targets: Targets, C: number): number {
  return 1 - accuracy(probs, targets, C);
}

/**
 * Fraction of rows whose target is among the k most probable classes. Ties are ranked by class
 * index (lower first) — the same rule as argmaxRows, so k = 1 equals accuracy exactly.
 */
export function topKAccuracy(probs: Float32Array, targets: Targets, C: number, k: number): number {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`topKAccuracy: k must be a positive integer, got ${k}`);
  const n = rowsOf(probs, C, targets);
  nonEmpty(n, 'topKAccuracy');
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    const pt = probs[i * C + t];
    let ahead = 0;
    for (let j = 0; j < C; j++) {
      const p = probs[i * C + j];
      if (p > pt || (p === pt && j < t) || (Number.isNaN(pt) && !Number.isNaN(p))) ahead++;
    }
    if (ahead < k) hits++;
  }
  return hits / n;
}

/** Mean cross-entropy −log p[target], with p clamped to ≥ 1e-12 so a confident miss stays finite. */
export function crossEntropy(probs: Float32Array, targets: Targets, C: number): number {
  const n = rowsOf(probs, C, targets);
  nonEmpty(n, 'crossEntropy');
  let sum = 0;
  for (let i = 0; i < n; i++) sum -= Math.log(Math.max(probs[i * C + targets[i]], 1e-12));
  return sum / n;
}

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of actual items of this class (the matrix row total). */
  support: number;
}

function checkMatrix(matrix: readonly (readonly number[])[], vocab: readonly string[], fn: string): void {
  const C = vocab.length;
  if (matrix.length !== C || matrix.some((row) => row.length !== C)) {
    throw new RangeError(`${fn}: matrix must be ${C}×${C} to match a vocab of ${C} labels`);
  }
}

/**
 * Precision (tp / predicted as the class), recall (tp / actually the class) and F1 per class.
 * A ratio 0/0 — a class never predicted, or absent from the targets — is defined as 0 (as
 * scikit-learn's zero_division=0), so averages stay numbers and an unused class scores nothing.
 */
export function perClassMetrics(matrix: readonly (readonly number[])[], vocab: readonly string[]): ClassMetrics[] {
  checkMatrix(matrix, vocab, 'perClassMetrics');
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return vocab.map((label, c) => {
    const tp = matrix[c][c];
    const support = matrix[c].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[c], 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    return { label, precision, recall, f1, support };
  });
}

/** Unweighted mean of precision, recall and F1 over classes (scikit-learn's "macro" average). */
export function macroAverage(metrics: readonly ClassMetrics[]): { precision: number; recall: number; f1: number } {
  if (metrics.length === 0) throw new RangeError('macroAverage: no classes');
  const mean = (f: (m: ClassMetrics) => number) => metrics.reduce((a, m) => a + f(m), 0) / metrics.length;
  return { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) };
}

export interface ConfusedPair {
  actual: string;
  predicted: string;
  count: number;
}

/**
 * Off-diagonal cells with at least `minCount` items, most frequent first — fastai's
 * most_confused. Equal counts are ordered by actual then predicted label (code-unit order), so
 * the list does not depend on sort stability or locale.
 */
export function mostConfused(matrix: readonly (readonly number[])[], vocab: readonly string[], minCount = 1): ConfusedPair[] {
  checkMatrix(matrix, vocab, 'mostConfused');
  const pairs: ConfusedPair[] = [];
  for (let i = 0; i < vocab.length; i++) {
    for (let j = 0; j < vocab.length; j++) {
      if (i !== j && matrix[i][j] >= minCount && matrix[i][j] > 0) pairs.push({ actual: vocab[i], predicted: vocab[j], count: matrix[i][j] });
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return pairs.sort((a, b) => b.count - a.count || cmp(a.actual, b.actual) || cmp(a.predicted, b.predicted));
}

// fastai's tta blend lives with the Predictor (libs/learner) so submission blends the same way.
export { blendTta } from '@paddock/learner';

export interface TopLoss {
  /** Row in the predictions. */
  index: number;
  /** Cross-entropy of the row, −log p[target] (p clamped at 1e-12). */
  loss: number;
  predicted: number;
  target: number;
  /** Probability of the predicted class (what fastai's plot_top_losses prints). */
  probability: number;
}

/**
 * The k rows with the largest loss, largest first — fastai's Interpretation.top_losses. Equal
 * losses keep row order (fastai's torch.topk gives no order guarantee; a stable one is testable).
 */
export function topLosses(probs: Float32Array, targets: Targets, C: number, k: number): TopLoss[] {
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`topLosses: k must be a non-negative integer, got ${k}`);
  const n = rowsOf(probs, C, targets);
  const preds = argmaxRows(probs, C);
  const rows: TopLoss[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({ index: i, loss: -Math.log(Math.max(probs[i * C + targets[i]], 1e-12)), predicted: preds[i], target: targets[i], probability: probs[i * C + preds[i]] });
  }
  return rows.sort((a, b) => b.loss - a.loss || a.index - b.index).slice(0, k);
}
