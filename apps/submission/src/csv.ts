// Reading the small CSVs of a competition (sample_submission.csv, submission.csv, test labels)
// into rows with their line numbers, so every complaint can point at file:line. Parsing is
// csv-parse's; this module adds the header checks and the error wording.
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { SubmissionError } from './errors.ts';

export interface CsvRow {
  /** Values by header name, surrounding whitespace trimmed. */
  readonly values: Record<string, string>;
  /** 1-based data row (header excluded). */
  readonly row: number;
  /** 1-based line where the record ends in the file. */
  readonly line: number;
}

/** Parse `file`, requiring the named header columns; other columns are kept but not required. */
export function readCsvTable(file: string, required: readonly string[], what: string): { header: string[]; rows: CsvRow[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SubmissionError(`cannot read ${what} ${file}: ${(err as Error).message}`, { file });
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, info: true, relax_column_count: false }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new SubmissionError(`${file}${line ? `:${line}` : ''}: malformed CSV (${err.message})`, { file, line });
    }
    throw err;
  }
  if (records.length === 0) {
    throw new SubmissionError(`${file}: empty ${what}; expected a header line with ${required.join(', ')}`, { file, line: 1 });
  }
  const header = records[0].record.map((h) => h.trim());
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length) {
    throw new SubmissionError(
      `${file}:${records[0].info.lines}: no ${missing.join(', ')} column in the header (found: ${header.map((h) => JSON.stringify(h)).join(', ') || 'nothing'}); ` +
        `the first line must name the columns, e.g. "${required.join(',')}"`,
      { file, line: records[0].info.lines },
    );
  }
  const rows = records.slice(1).map(({ record, info }, i) => {
    const values: Record<string, string> = {};
    header.forEach((name, k) => (values[name] = (record[k] ?? '').trim()));
    return { values, row: i + 1, line: info.lines };
  });
  return { header, rows };
}

/**
 * Ids of one column, in file order, refusing blanks and duplicates (either would make "same ids
 * in the same order" meaningless). Returns the rows too, for callers that read more columns.
 */
export function readIdColumn(file: string, what: string, column = 'image_id', also: readonly string[] = []): CsvRow[] {
  const { rows } = readCsvTable(file, [column, ...also], what);
  const seen = new Map<string, number>();
  for (const r of rows) {
    const id = r.values[column];
    if (id === '') throw new SubmissionError(`${file}:${r.line}: row ${r.row} has an empty ${column}`, { file, row: r.row, line: r.line });
    const first = seen.get(id);
    if (first !== undefined) {
      throw new SubmissionError(`${file}:${r.line}: row ${r.row} repeats ${column} "${id}" (first on line ${first})`, { file, row: r.row, line: r.line });
    }
    seen.set(id, r.line);
  }
  return rows;
}
