// fastai's parameter schedules: cosine and exponential pieces combined into the one-cycle
// learning-rate and momentum curves, evaluated at a training position pct ∈ [0, 1), and the
// per-parameter-group learning rates of slice(a, b) / slice(b).
export type Schedule = (pct: number) => number;

/** fastai SchedCos: start + (1 + cos(π·(1 − pos)))·(end − start)/2. */
export function schedCos(start: number, end: number): Schedule {
  return (pos) => start + ((1 + Math.cos(Math.PI * (1 - pos))) * (end - start)) / 2;
}

/** fastai SchedExp: start·(end/start)^pos (lr_find). */
export function schedExp(start: number, end: number): Schedule {
  return (pos) => start * (end / start) ** pos;
}

/** fastai SchedNo: constant. */
export function schedNo(value: number): Schedule {
  return () => value;
}

/** fastai combine_scheds for two phases split at `pct`. */
export function combine(pct: number, first: Schedule, second: Schedule): Schedule {
  return (pos) => (pos < pct ? first(pct === 0 ? 0 : pos / pct) : second(pct === 1 ? 1 : (pos - pct) / (1 - pct)));
}

export interface OneCycleOptions {
  div?: number;
  divFinal?: number;
  pctStart?: number;
  moms?: [number, number, number];
}

export const oneCycleDefaults = { div: 25, divFinal: 1e5, pctStart: 0.25, moms: [0.95, 0.85, 0.95] as [number, number, number] };

/** Learning rate and momentum of fit_one_cycle at position pct. */
export function oneCycle(lrMax: number, options: OneCycleOptions = {}): { lr: Schedule; mom: Schedule } {
  const { div, divFinal, pctStart, moms } = { ...oneCycleDefaults, ...options };
  return {
    lr: combine(pctStart, schedCos(lrMax / div, lrMax), schedCos(lrMax, lrMax / divFinal)),
    mom: combine(pctStart, schedCos(moms[0], moms[1]), schedCos(moms[1], moms[2])),
  };
}

/** Python's slice(start, stop) as fastai uses it for learning rates: slice(b) has no start. */
export interface LrSlice {
  start?: number;
  stop: number;
}

export function slice(a: number, b?: number): LrSlice {
  return b === undefined ? { stop: a } : { start: a, stop: b };
}

/** A learning rate for every group, one per group, or a slice spread over the groups. */
export type LrSpec = number | number[] | LrSlice;

/** fastai even_mults: n values from start to stop, geometrically spaced. */
export function evenMults(start: number, stop: number, n: number): number[] {
  if (n === 1) return [stop];
  const mult = (stop / start) ** (1 / (n - 1));
  return Array.from({ length: n }, (_, i) => start * mult ** i);
}

/** fastai Learner.lr_range: slice(a, b) → even_mults(a, b, n); slice(b) → b/10 for all but the last, b for the last. */
export function lrRange(lr: LrSpec, groups: number): number[] {
  if (typeof lr === 'number') return Array(groups).fill(lr);
  if (Array.isArray(lr)) {
    if (lr.length !== groups) throw new RangeError(`${lr.length} learning rates for ${groups} parameter groups`);
    return lr;
  }
  if (lr.start !== undefined) return evenMults(lr.start, lr.stop, groups);
  return [...Array(groups - 1).fill(lr.stop / 10), lr.stop];
}

/** Per-group lr and the momentum at a position: what a fit's scheduler gives each batch. */
export interface GroupSchedule {
  lrs: (pos: number) => number[];
  mom: Schedule;
}

/** fit_one_cycle with per-group maxima (each group gets its own one-cycle curve, same shape). */
export function oneCycleGroups(lrMax: number[], options: OneCycleOptions = {}): GroupSchedule {
  const curves = lrMax.map((m) => oneCycle(m, options));
  return { lrs: (pos) => curves.map((c) => c.lr(pos)), mom: curves[0]?.mom ?? schedNo(0.9) };
}
