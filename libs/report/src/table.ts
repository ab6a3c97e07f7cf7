// Fixed-width text tables in the layout of fastai's console epoch table (fastprogress): each
// header padded to at least 8 characters, columns two spaces apart, floats with 6 decimals and
// the time column as mm:ss — so logs read like the fastai runs they are compared with.

export type CellValue = number | string | null | undefined;

export type ColumnFormat = 'int' | 'float' | 'time' | 'text';

export interface Column {
  name: string;
  /** Default: 'int' for "epoch", 'time' for "time", 'float' for other numbers, text for strings. */
  format?: ColumnFormat;
}

/** Seconds as mm:ss, or h:mm:ss from an hour on (fastprogress's format_time). */
export function formatTime(seconds: number): string {
  const t = Math.max(0, Math.round(seconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const two = (v: number) => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** A number as Python's f'{v:.6f}' prints it (nan, inf, -inf for non-finite values). */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  // toFixed matches Python here, including "-0.000000" for tiny negatives.
  return v.toFixed(6);
}

function formatCell(value: CellValue, column: Column): string {
  // fastai prints "#na#" where a metric was not computed (e.g. no validation set).
  if (value === null || value === undefined) return '#na#';
  if (typeof value === 'string') return value;
  const format = column.format ?? (column.name === 'epoch' ? 'int' : column.name === 'time' ? 'time' : 'float');
  switch (format) {
    case 'int': return Number.isFinite(value) ? String(Math.trunc(value)) : formatFloat(value);
    case 'time': return formatTime(value);
    case 'text': return String(value);
    case 'float': return formatFloat(value);
  }
}

/**
 * Render rows under a header line. Each column is as wide as its padded header (header padded to
 * 8, plus 2 spaces); a longer cell pushes the following columns right, as in fastprogress. Trailing
 * spaces are trimmed so the text diffs cleanly. Lines are joined with "\n", no final newline.
 */
export function formatTable(rows: readonly Record<string, CellValue>[], columns: readonly (string | Column)[]): string {
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { name: c } : c));
  const widths = cols.map((c) => Math.max(8, c.name.length) + 2);
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('').trimEnd();
  const out = [line(cols.map((c) => c.name))];
  for (const row of rows) out.push(line(cols.map((c) => formatCell(row[c.name], c))));
  return out.join('\n');
}
