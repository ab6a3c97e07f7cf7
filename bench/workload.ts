// What both sides of bench/train-step.ts train on, so that they do the same work: the same
// synthetic batch (sin of the flat index, as bench/torch_reference.py builds it), the same
// classes, warm-up and statistic.
export const CLASSES = 10;
export const WARMUP_STEPS = 2;

export function syntheticImage(batch: number, size: number): Float32Array {
  return Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
