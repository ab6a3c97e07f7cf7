// Axis ticks with "nice" numbers (1, 2, 5 × 10^k) for linear axes and decades for log axes, as
// matplotlib's default locators give: readable labels matter more than using every pixel.

/** The nice number (1, 2, 5 or 10 × 10^k) closest to `x` (x > 0). */
export function niceStep(x: number): number {
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  const nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nice * 10 ** exp;
}

export interface LinearTicks {
  /** Axis range, widened to whole steps so the ends carry ticks. */
  readonly domain: [number, number];
  readonly ticks: number[];
  readonly step: number;
}

/** About `count` nice ticks covering [min, max]. A zero-width range is widened around the value. */
export function linearTicks(min: number, max: number, count = 6): LinearTicks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`linearTicks: range [${min}, ${max}] is not finite`);
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep((max - min) / Math.max(1, count - 1));
  // Snap with a small tolerance so 0.30000000000000004 / 0.1 does not add a spurious step.
  const lo = Math.floor(min / step + 1e-9);
  const hi = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) ticks.push(cleanFloat(k * step));
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, step };
}

export interface LogTicks {
  readonly domain: [number, number];
  /** Labelled ticks: decades, plus 2 and 5 × 10^k when the range spans two decades or fewer. */
  readonly ticks: number[];
}

/** Ticks for a log10 axis covering [min, max] (both > 0), extended to whole decades. */
export function logTicks(min: number, max: number): LogTicks {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new RangeError(`logTicks: range [${min}, ${max}] must be finite and positive`);
  }
  if (min > max) [min, max] = [max, min];
  let lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  const dense = hi - lo <= 2;
  for (let e = lo; e <= hi; e++) {
    for (const m of dense && e < hi ? [1, 2, 5] : [1]) ticks.push(cleanFloat(m * 10 ** e));
  }
  return { domain: [cleanFloat(10 ** lo), cleanFloat(10 ** hi)], ticks };
}

/** Tick label for a linear axis: just enough decimals for the step, never "-0". */
export function formatLinearTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const s = value.toFixed(Math.min(decimals, 20));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
};

/** Tick label for a log axis: 10⁻³ for decades, 2×10⁻³ for the 2 and 5 marks. */
export function formatLogTick(value: number): string {
  const e = Math.floor(Math.log10(value) + 1e-9);
  const m = Math.round(value / 10 ** e);
  const pow = `10${[...String(e)].map((c) => SUPERSCRIPT[c]).join('')}`;
  return m === 1 ? pow : `${m}×${pow}`;
}

// k * step accumulates binary noise (3 * 0.1); rounding to 12 significant digits removes it.
function cleanFloat(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}
