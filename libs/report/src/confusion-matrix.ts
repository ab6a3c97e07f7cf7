// The confusion-matrix picture of fastai's ClassificationInterpretation.plot_confusion_matrix:
// actual classes down the rows, predicted across the columns, Blues heat map with the count (or
// row fraction) printed in every cell; column labels rotated so long class names stay readable.
import { blues } from './colors.ts';
import { boldTextWidth, escapeXml, fitText, picture, r2, textWidth, type Picture } from './svg.ts';

export interface ConfusionMatrixOptions {
  title?: string;
  /** Divide each row by its total (fastai's normalize=True); an empty row stays all zero. */
  normalize?: boolean;
}

export interface ConfusionMatrixLayout {
  /** Top-left corner of the cell grid, and the side of one square cell, in pixels. */
  readonly gridLeft: number;
  readonly gridTop: number;
  readonly cellSize: number;
}

export type ConfusionMatrixPicture = Picture & { readonly layout: ConfusionMatrixLayout };

const LABEL_FONT = 12;
const MAX_LABEL_WIDTH = 220;

export async function confusionMatrixPlot(
  matrix: readonly (readonly number[])[],
  labels: readonly string[],
  options: ConfusionMatrixOptions = {},
): Promise<ConfusionMatrixPicture> {
  const n = labels.length;
  if (n === 0) throw new RangeError('confusionMatrixPlot: no labels');
  if (matrix.length !== n || matrix.some((row) => row.length !== n)) {
    throw new RangeError(`confusionMatrixPlot: matrix must be ${n}×${n} to match ${n} labels`);
  }
  const title = options.title ?? 'Confusion matrix';
  const values = matrix.map((row) => {
    if (!options.normalize) return [...row];
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
  const maxValue = Math.max(0, ...values.flat());
  const text = (v: number) => (options.normalize ? v.toFixed(2) : String(v));

  // Cells shrink with more classes but stay big enough for a 4-digit count.
  const cellSize = Math.max(36, Math.min(90, Math.floor(600 / n)));
  let countFont = Math.max(9, Math.min(16, cellSize * 0.3));
  const widest = Math.max(...values.flat().map((v) => textWidth(text(v), countFont)));
  if (widest > cellSize * 0.88) countFont = Math.max(7, (countFont * cellSize * 0.88) / widest);

  const shown = labels.map((l) => fitText(l, LABEL_FONT, MAX_LABEL_WIDTH));
  const labelWidth = Math.max(...shown.map((l) => textWidth(l, LABEL_FONT)));
  const grid = n * cellSize;
  // Column labels hang at -45° from below each column: they reach down and to the left by
  // labelWidth·cos45°, which can pass the grid's left edge for the first column.
  const diag = labelWidth * Math.SQRT1_2;
  const axisTitle = 16;
  const gridLeft = Math.ceil(Math.max(labelWidth + 12 + axisTitle + 12, diag - cellSize / 2 + 16));
  const gridTop = 52;
  const bottom = Math.ceil(diag + LABEL_FONT + 14 + axisTitle + 16);
  const titleWidth = boldTextWidth(title, 16) + 40;
  const width = Math.ceil(Math.max(gridLeft + grid + 24, titleWidth));
  const height = gridTop + grid + bottom;

  const parts: string[] = [];
  parts.push(`<text x="${r2(width / 2)}" y="30" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = values[i][j];
      const t = maxValue > 0 ? v / maxValue : 0;
      const x = gridLeft + j * cellSize;
      const y = gridTop + i * cellSize;
      parts.push(`<rect x="${x}" y="${y}" width="${cellSize}" height="${cellSize}" fill="${blues(t)}"/>`);
      parts.push(
        `<text x="${r2(x + cellSize / 2)}" y="${r2(y + cellSize / 2 + countFont * 0.36)}" font-size="${r2(countFont)}" ` +
          `text-anchor="middle" fill="${t > 0.5 ? '#ffffff' : '#000000'}">${escapeXml(text(v))}</text>`,
      );
    }
  }
  parts.push(`<rect x="${gridLeft}" y="${gridTop}" width="${grid}" height="${grid}" fill="none" stroke="#444444" stroke-width="1"/>`);
  for (let i = 0; i < n; i++) {
    const cy = gridTop + i * cellSize + cellSize / 2 + LABEL_FONT * 0.36;
    parts.push(`<text x="${gridLeft - 8}" y="${r2(cy)}" font-size="${LABEL_FONT}" text-anchor="end">${escapeXml(shown[i])}</text>`);
    const cx = gridLeft + i * cellSize + cellSize / 2;
    const ty = gridTop + grid + 10;
    parts.push(
      `<text x="${r2(cx)}" y="${ty}" font-size="${LABEL_FONT}" text-anchor="end" dominant-baseline="hanging" ` +
        `transform="rotate(-45 ${r2(cx)} ${ty})">${escapeXml(shown[i])}</text>`,
    );
  }
  const ay = gridTop + grid / 2;
  parts.push(`<text x="${axisTitle + 2}" y="${r2(ay)}" font-size="14" text-anchor="middle" transform="rotate(-90 ${axisTitle + 2} ${r2(ay)})">Actual</text>`);
  parts.push(`<text x="${r2(gridLeft + grid / 2)}" y="${height - 14}" font-size="14" text-anchor="middle">Predicted</text>`);

  const pic = await picture(width, height, parts.join('\n'));
  return { ...pic, layout: { gridLeft, gridTop, cellSize } };
}
