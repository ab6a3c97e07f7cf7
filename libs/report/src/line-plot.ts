// Line plots for training curves: train loss per batch with valid loss per epoch on one axis, and
// the lr-find curve on a log-scale learning-rate axis (fastai's Recorder.plot_loss / plot_lr_find).
// Non-finite points (a diverging lr-find, a skipped validation) break the line instead of the axes.
import { SERIES_COLORS } from './colors.ts';
import { escapeXml, fitText, picture, r2, textWidth, type Picture } from './svg.ts';
import { formatLinearTick, formatLogTick, linearTicks, logTicks } from './ticks.ts';

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** log10 x axis (learning rates); points with x ≤ 0 are skipped like non-finite ones. */
  logX?: boolean;
  width?: number;
  height?: number;
}

export interface LinePlotLayout {
  /** The data rectangle in pixels. */
  readonly plot: { left: number; top: number; width: number; height: number };
  readonly xDomain: [number, number];
  readonly yDomain: [number, number];
  readonly xTicks: number[];
  readonly yTicks: number[];
  readonly logX: boolean;
}

export type LinePlotPicture = Picture & { readonly layout: LinePlotLayout };

/** Series with this many points or fewer also get a dot per point (e.g. valid loss per epoch). */
const MARKER_LIMIT = 30;

export async function linePlot(series: readonly Series[], options: LinePlotOptions): Promise<LinePlotPicture> {
  const logX = options.logX ?? false;
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const usable = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0);

  for (const s of series) {
    if (s.x.length !== s.y.length) throw new RangeError(`linePlot: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
  }
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.x[i], s.y[i])) continue;
      xmin = Math.min(xmin, s.x[i]); xmax = Math.max(xmax, s.x[i]);
      ymin = Math.min(ymin, s.y[i]); ymax = Math.max(ymax, s.y[i]);
    }
  }
  const empty = xmin > xmax;
  if (empty) [xmin, xmax, ymin, ymax] = logX ? [1, 10, 0, 1] : [0, 1, 0, 1];

  const xLinear = logX ? undefined : linearTicks(xmin, xmax, 7);
  const xt = xLinear ?? logTicks(xmin, xmax);
  const yt = linearTicks(ymin, ymax, 6);
  const xLabelOf = (v: number) => (xLinear ? formatLinearTick(v, xLinear.step) : formatLogTick(v));
  const yLabelOf = (v: number) => formatLinearTick(v, yt.step);

  const legendFont = 12;
  const names = series.map((s) => fitText(s.name, legendFont, 200));
  const legendWidth = series.length ? Math.max(...names.map((n) => textWidth(n, legendFont))) + 40 : 0;
  const yTickWidth = Math.max(...yt.ticks.map((v) => textWidth(yLabelOf(v), 11)));
  const left = Math.ceil(yTickWidth + 46);
  const top = 44;
  const right = Math.ceil(legendWidth + 24);
  const bottom = 56;
  const plot = { left, top, width: Math.max(50, width - left - right), height: Math.max(50, height - top - bottom) };

  const [x0, x1] = xt.domain;
  const [y0, y1] = yt.domain;
  const px = (x: number) =>
    plot.left + (logX ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (x - x0) / (x1 - x0)) * plot.width;
  const py = (y: number) => plot.top + plot.height - ((y - y0) / (y1 - y0)) * plot.height;

  const parts: string[] = [];
  parts.push(`<text x="${r2(width / 2)}" y="26" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(options.title)}</text>`);
  for (const v of xt.ticks) {
    const x = r2(px(v));
    parts.push(`<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.top + plot.height}" stroke="#e6e6e6" stroke-width="1"/>`);
    parts.push(`<line x1="${x}" y1="${plot.top + plot.height}" x2="${x}" y2="${plot.top + plot.height + 5}" stroke="#444444"/>`);
    parts.push(`<text x="${x}" y="${plot.top + plot.height + 19}" font-size="11" text-anchor="middle">${escapeXml(xLabelOf(v))}</text>`);
  }
  for (const v of yt.ticks) {
    const y = r2(py(v));
    parts.push(`<line x1="${plot.left}" y1="${y}" x2="${plot.left + plot.width}" y2="${y}" stroke="#e6e6e6" stroke-width="1"/>`);
    parts.push(`<line x1="${plot.left - 5}" y1="${y}" x2="${plot.left}" y2="${y}" stroke="#444444"/>`);
    parts.push(`<text x="${plot.left - 8}" y="${r2(py(v) + 4)}" font-size="11" text-anchor="end">${escapeXml(yLabelOf(v))}</text>`);
  }
  parts.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#444444"/>`);

  series.forEach((s, k) => {
    const color = SERIES_COLORS[k % SERIES_COLORS.length];
    const runs: string[][] = [];
    let run: string[] = [];
    const dots: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.x[i], s.y[i])) {
        if (run.length) runs.push(run);
        run = [];
        continue;
      }
      const p = `${r2(px(s.x[i]))},${r2(py(s.y[i]))}`;
      run.push(p);
      dots.push(p);
    }
    if (run.length) runs.push(run);
    for (const r of runs) {
      if (r.length > 1) parts.push(`<polyline points="${r.join(' ')}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round"/>`);
    }
    // A lone point between gaps would be invisible as a line, so it always gets its dot.
    const marked = dots.length <= MARKER_LIMIT ? dots : runs.filter((r) => r.length === 1).map((r) => r[0]);
    for (const p of marked) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3.2" fill="${color}"/>`);
    }
    const ly = plot.top + 14 + k * 20;
    const lx = plot.left + plot.width + 14;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`);
    parts.push(`<text x="${lx + 26}" y="${ly + 4}" font-size="${legendFont}">${escapeXml(names[k])}</text>`);
  });
  if (empty) {
    parts.push(`<text x="${r2(plot.left + plot.width / 2)}" y="${r2(plot.top + plot.height / 2)}" font-size="13" text-anchor="middle" fill="#888888">no finite data</text>`);
  }
  parts.push(`<text x="${r2(plot.left + plot.width / 2)}" y="${height - 14}" font-size="13" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  const ay = plot.top + plot.height / 2;
  parts.push(`<text x="18" y="${r2(ay)}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${r2(ay)})">${escapeXml(options.yLabel)}</text>`);

  const pic = await picture(width, height, parts.join('\n'));
  return { ...pic, layout: { plot, xDomain: [x0, x1], yDomain: [y0, y1], xTicks: xt.ticks, yTicks: yt.ticks, logX } };
}
