// lr_find's suggestions and picture. The learner runs the sweep (Learner.lrFind); this module turns
// the recorded (lr, smoothed loss) points into suggested learning rates exactly as fastai 2.7's
// callback/schedule.py does, but never throwing: a suggestion that the points cannot support is NaN.
import { linePlot, type LinePlotPicture } from '@paddock/report';

export interface LrFindResult {
  /** Learning rate of each batch of the sweep (the same for every group). */
  lrs: number[];
  /** Smoothed loss of each batch (fastai's Recorder.losses holds the smoothed loss). */
  losses: number[];
  /** Raw batch losses. */
  rawLosses: number[];
  numIt: number;
  /** Whether the sweep stopped early because the smoothed loss diverged (> 4× best, or non-finite). */
  diverged: boolean;
  suggestions: LrSuggestions;
}

export interface Suggestion {
  lr: number;
  /** The point to mark on the plot: (lr, loss). */
  point: [number, number];
}

export interface LrSuggestions {
  minimum: Suggestion;
  steep: Suggestion;
  valley: Suggestion;
  slide: Suggestion;
}

const none: Suggestion = { lr: NaN, point: [NaN, NaN] };

/**
 * The points the suggestions see, as fastai's lr_find: lrs[num_it//10 : -5] and the same slice of
 * losses, then cut at the FIRST NaN loss (fastai: `drop_idx = min(nan_idxs)`; later points are
 * dropped too, since after a NaN the weights are garbage). Non-finite losses (±Inf) count as NaN
 * here. Python's negative end: fewer than 5 + num_it//10 points leave nothing.
 */
export function suggestionPoints(lrs: number[], losses: number[], numIt: number): { lrs: number[]; losses: number[] } {
  const start = Math.floor(numIt / 10);
  const end = Math.max(0, losses.length - 5);
  const l = losses.slice(start, end);
  const r = lrs.slice(start, end);
  const bad = l.findIndex((v) => !Number.isFinite(v));
  return bad < 0 ? { lrs: r, losses: l } : { lrs: r.slice(0, bad), losses: l.slice(0, bad) };
}

/** fastai minimum: lr at the lowest loss, divided by 10. Needs ≥ 1 point. */
export function minimum(lrs: number[], losses: number[]): Suggestion {
  if (losses.length === 0) return none;
  let best = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i] < losses[best]) best = i;
  return { lr: lrs[best] / 10, point: [lrs[best], losses[best]] };
}

/** fastai steep: lr at the most negative slope (loss[i+1] − loss[i]) / (log lr[i+1] − log lr[i]), taking lr[i]. Needs ≥ 2 points. */
export function steep(lrs: number[], losses: number[]): Suggestion {
  if (losses.length < 2) return none;
  let best = 0;
  let bestGrad = Infinity;
  for (let i = 0; i + 1 < losses.length; i++) {
    const g = (losses[i + 1] - losses[i]) / (Math.log(lrs[i + 1]) - Math.log(lrs[i]));
    if (g < bestGrad) [best, bestGrad] = [i, g];
  }
  return { lr: lrs[best], point: [lrs[best], losses[best]] };
}

/**
 * fastai valley: the longest decreasing subsequence (O(n²) dynamic programme lds[i] = 1 + max
 * lds[j] over j < i with loss[i] < loss[j]); its end is the first i reaching the longest length,
 * its start = end − lds[end]; the suggestion is at start + int((end − start)/3) + int((end −
 * start)/3/2), clamped at 0. Needs ≥ 1 point.
 */
export function valley(lrs: number[], losses: number[]): Suggestion {
  const n = losses.length;
  if (n === 0) return none;
  const lds = Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
      if (lds[maxEnd] < lds[i]) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd];
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  // A valley starting at index 0 has start −1 (fastai's start is one before the run); with
  // end − start = 2, fastai's index is −1, which Python reads as the LAST point (the largest lr).
  // Clamped to 0 here.
  const idx = Math.max(0, maxStart + Math.trunc(sections) + Math.trunc(sections / 2));
  return { lr: lrs[idx], point: [lrs[idx], losses[idx]] };
}

/** numpy.gradient with unit spacing: one-sided at the ends, central inside. */
function gradient(y: number[]): number[] {
  const n = y.length;
  return y.map((_, i) => (i === 0 ? y[1] - y[0] : i === n - 1 ? y[n - 1] - y[n - 2] : (y[i + 1] - y[i - 1]) / 2));
}

/** numpy.interp (x ascending; clamps outside). */
function interp(x: number, xs: number[], ys: number[]): number {
  if (x <= xs[0]) return ys[0];
  if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
  let i = 1;
  while (xs[i] < x) i++;
  return ys[i - 1] + ((ys[i] - ys[i - 1]) * (x - xs[i - 1])) / (xs[i] - xs[i - 1]);
}

/**
 * fastai slide(lr_diff=15, thresh=0.005, adjust_value=1): g = numpy.gradient(losses); from the
 * right end (r = −1, l = r − lr_diff) move both indices left while l ≥ −n and |g[r] − g[l]| >
 * thresh, remembering lrs[l] as the local-minimum lr; the suggestion is that lr × adjust_value and
 * its marker's loss is interpolated on log10 lr. Python would wrap lrs[−lr_diff−1] around or fail
 * for n ≤ lr_diff; here that is NaN.
 */
export function slide(lrs: number[], losses: number[], lrDiff = 15, thresh = 0.005, adjustValue = 1): Suggestion {
  const n = losses.length;
  if (n <= lrDiff || n < 2) return none;
  const g = gradient(losses);
  const at = (i: number) => n + i; // Python negative index → JS index
  let r = -1;
  let l = r - lrDiff;
  let localMin = lrs[at(l)];
  while (l >= -n && Math.abs(g[at(r)] - g[at(l)]) > thresh) {
    localMin = lrs[at(l)];
    r -= 1;
    l -= 1;
  }
  const lr = localMin * adjustValue;
  return { lr, point: [lr, interp(Math.log10(lr), lrs.map(Math.log10), losses)] };
}

export function suggest(lrs: number[], losses: number[], numIt: number): LrSuggestions {
  const p = suggestionPoints(lrs, losses, numIt);
  return { minimum: minimum(p.lrs, p.losses), steep: steep(p.lrs, p.losses), valley: valley(p.lrs, p.losses), slide: slide(p.lrs, p.losses) };
}

/** The lines fastai prints, e.g. "valley: 1.58e-03". */
export function formatSuggestions(s: LrSuggestions): string {
  return (Object.entries(s) as [string, Suggestion][]).map(([name, v]) => `${name}: ${Number.isFinite(v.lr) ? v.lr.toExponential(2) : 'n/a (too few finite points)'}`).join('\n');
}

/** fastai plot_lr_find: smoothed loss vs lr on a log axis, each suggestion as a marked point. */
export async function plotLrFind(result: LrFindResult): Promise<LinePlotPicture> {
  const skipEnd = 5;
  const end = Math.max(1, result.lrs.length - skipEnd);
  const series = [{ name: 'loss', x: result.lrs.slice(0, end), y: result.losses.slice(0, end) }];
  for (const [name, s] of Object.entries(result.suggestions) as [string, Suggestion][]) {
    if (Number.isFinite(s.point[0]) && Number.isFinite(s.point[1])) series.push({ name: `${name} ${s.lr.toExponential(2)}`, x: [s.point[0]], y: [s.point[1]] });
  }
  return linePlot(series, { title: 'Learning rate finder', xLabel: 'learning rate', yLabel: 'loss (smoothed)', logX: true });
}
