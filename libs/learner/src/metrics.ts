// The metrics the Learner reports each epoch (fastai's error_rate, accuracy, top_k_accuracy, or a
// user function) and the loss. A metric sees the whole validation set at once (fastai's AccumMetric).
export interface Metric {
  /** Column name in the epoch table and key in EpochRecord.metrics (fastai's names). */
  name: string;
  /** Higher is better (accuracy) or lower is better (error_rate); used by trackers. */
  higherIsBetter: boolean;
  fn(logits: Float32Array, labels: Int32Array, classes: number): number;
}

export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const n = logits.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose label is among the k largest logits (ties broken by lower class index, as torch.topk). */
function topKHits(logits: Float32Array, labels: Int32Array, classes: number, k: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const v = logits[i * classes + y];
    let above = 0;
    for (let c = 0; c < classes; c++) {
      const u = logits[i * classes + c];
      if (u > v || (u === v && c < y)) above += 1;
    }
    if (above < k) hits += 1;
  }
  return labels.length ? hits / labels.length : NaN;
}

export const accuracy: Metric = { name: 'accuracy', higherIsBetter: true, fn: (l, y, c) => topKHits(l, y, c, 1) };
export const errorRate: Metric = { name: 'error_rate', higherIsBetter: false, fn: (l, y, c) => 1 - topKHits(l, y, c, 1) };

/** fastai top_k_accuracy(k=5). */
export function topKAccuracy(k = 5): Metric {
  return { name: `top_${k}_accuracy`, higherIsBetter: true, fn: (l, y, c) => topKHits(l, y, c, k) };
}

/** A user metric from a function of (logits, labels, classes). */
export function metric(name: string, fn: Metric['fn'], higherIsBetter = true): Metric {
  return { name, higherIsBetter, fn };
}

/** Sum over the batch of −log softmax(logits)[label], computed stably. */
export function crossEntropySum(logits: Float32Array, labels: ArrayLike<number | bigint>, classes: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[i * classes + c] - max);
    total += Math.log(sum) + max - logits[i * classes + Number(labels[i])];
  }
  return total;
}

export function softmaxRows(logits: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length / classes; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += out[i * classes + c] = Math.exp(logits[i * classes + c] - max);
    for (let c = 0; c < classes; c++) out[i * classes + c] /= sum;
  }
  return out;
}
