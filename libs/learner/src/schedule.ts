// fastai's parameter schedules: cosine pieces combined into one-cycle learning-rate and momentum
// curves, evaluated at a training position pct ∈ [0, 1).
export type Schedule = (pct: number) => number;

/** fastai SchedCos: start + (1 + cos(π·(1 − pos)))·(end − start)/2. */
export function schedCos(start: number, end: number): Schedule {
  return (pos) => start + ((1 + Math.cos(Math.PI * (1 - pos))) * (end - start)) / 2;
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
