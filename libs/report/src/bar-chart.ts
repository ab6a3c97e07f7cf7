// Horizontal bar chart: the picture of fastai's most_confused list ("actual → predicted", count),
// and of any other short ranked list. Bars are drawn in list order, top to bottom, each labelled
// with its value so the picture reads without an axis.
import { SERIES_COLORS } from './colors.ts';
import { boldTextWidth, escapeXml, fitText, picture, r2, textWidth, type Picture } from './svg.ts';

export interface Bar {
  label: string;
  value: number;
}

export interface BarChartOptions {
  title: string;
  /** Shown under the bars, e.g. "images". */
  valueLabel?: string;
  /** Width of the bar area in pixels (default 360). */
  barWidth?: number;
  /** Printed value format (default: integers as is, others with 3 decimals). */
  format?: (v: number) => string;
}

export interface BarChartLayout {
  /** Pixel rectangle of each bar, in input order. */
  readonly bars: { x: number; y: number; width: number; height: number }[];
}

export type BarChartPicture = Picture & { readonly layout: BarChartLayout };

const FONT = 12;
const ROW = 26;
const BAR = 18;
const MAX_LABEL = 260;

export async function barChart(bars: readonly Bar[], options: BarChartOptions): Promise<BarChartPicture> {
  for (const b of bars) if (!(Number.isFinite(b.value) && b.value >= 0)) throw new RangeError(`barChart: "${b.label}" has value ${b.value}; values must be finite and ≥ 0`);
  const format = options.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3)));
  const shown = bars.map((b) => fitText(b.label, FONT, MAX_LABEL));
  const labelWidth = Math.ceil(Math.max(60, ...shown.map((l) => textWidth(l, FONT))));
  const barWidth = options.barWidth ?? 360;
  const maxValue = Math.max(0, ...bars.map((b) => b.value));
  const maxText = Math.ceil(Math.max(0, ...bars.map((b) => textWidth(format(b.value), FONT))));
  const left = 16 + labelWidth + 10;
  const top = 48;
  const rows = Math.max(1, bars.length);
  const width = Math.ceil(Math.max(left + barWidth + 8 + maxText + 16, boldTextWidth(options.title, 16) + 40));
  const height = top + rows * ROW + (options.valueLabel ? 36 : 16);
  const parts = [`<text x="${r2(width / 2)}" y="28" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(options.title)}</text>`];
  const layout: BarChartLayout = { bars: [] };
  if (bars.length === 0) {
    parts.push(`<text x="${r2(width / 2)}" y="${top + ROW / 2 + 4}" font-size="${FONT}" text-anchor="middle" fill="#555555">none</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * ROW + (ROW - BAR) / 2;
    const w = maxValue > 0 ? Math.max(b.value > 0 ? 1 : 0, Math.round((b.value / maxValue) * barWidth)) : 0;
    layout.bars.push({ x: left, y, width: w, height: BAR });
    parts.push(`<text x="${left - 10}" y="${r2(y + BAR / 2 + FONT * 0.36)}" font-size="${FONT}" text-anchor="end">${escapeXml(shown[i])}</text>`);
    parts.push(`<rect x="${left}" y="${r2(y)}" width="${w}" height="${BAR}" fill="${SERIES_COLORS[0]}"/>`);
    parts.push(`<text x="${left + w + 6}" y="${r2(y + BAR / 2 + FONT * 0.36)}" font-size="${FONT}">${escapeXml(format(b.value))}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + rows * ROW}" stroke="#444444" stroke-width="1"/>`);
  if (options.valueLabel) parts.push(`<text x="${r2(left + barWidth / 2)}" y="${height - 12}" font-size="13" text-anchor="middle">${escapeXml(options.valueLabel)}</text>`);
  const pic = await picture(width, height, parts.join('\n'));
  return { ...pic, layout };
}
