// Label sources: where an item's label comes from. parentLabel is fastai's parent_label (the
// folder a file sits in); csvLabels reads a Kaggle-style train.csv (image_id,label). readCsv is
// the shared strict CSV reader, so every CSV error names the file and the line.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** A label source that cannot be read: the file, the 1-based line when known, what is wrong. */
export class LabelSourceError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'LabelSourceError';
  }
}

/**
 * The name of the folder that holds the file, as fastai's parent_label: "Healthy/a.jpg" →
 * "Healthy", "train_images/Healthy/a.jpg" → "Healthy". Both / and \ separate folders.
 * A bare file name has no parent folder and gives "".
 */
export function parentLabel(relPath: string): string {
  const parts = relPath.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  return parts.length >= 2 ? parts[parts.length - 2] : '';
}

export interface CsvRow {
  /** 1-based line of the file the record ends on (line 1 is the header). */
  readonly line: number;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Reads a CSV with a header row and returns, for each record, the requested columns. Missing
 * columns, ragged rows and bad quoting throw a LabelSourceError naming the file and line.
 * A UTF-8 BOM, CRLF line ends, blank lines and spaces around fields are accepted.
 */
export function readCsv(csvPath: string, columns: readonly string[]): CsvRow[] {
  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (e) {
    throw new LabelSourceError(`${csvPath}: cannot read the file (${(e as Error).message})`, csvPath);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    const where = line === undefined ? '' : ` line ${line}:`;
    throw new LabelSourceError(`${csvPath}:${where} malformed CSV: ${(e as Error).message}`, csvPath, line);
  }
  if (records.length === 0) throw new LabelSourceError(`${csvPath}: the file is empty; expected a header row with ${columns.join(', ')}`, csvPath, 1);
  const header = records[0].record;
  const index = columns.map((c) => header.indexOf(c));
  const missing = columns.filter((_, i) => index[i] < 0);
  if (missing.length > 0) {
    throw new LabelSourceError(
      `${csvPath}: line ${records[0].info.lines}: no column ${missing.map((m) => `"${m}"`).join(', ')} in the header (found ${header.map((h) => `"${h}"`).join(', ')})`,
      csvPath,
      records[0].info.lines,
    );
  }
  return records.slice(1).map(({ record, info }) => ({
    line: info.lines,
    values: Object.fromEntries(columns.map((c, i) => [c, record[index[i]]])),
  }));
}

export interface CsvLabelOptions {
  idColumn?: string;
  labelColumn?: string;
}

/**
 * Item id → label from a CSV such as Kaggle's train.csv (image_id,label,...). Ids keep the
 * file's order (Map insertion order). An empty id or label, or one id given two different labels,
 * is an error naming the line; an id repeated with the same label is accepted.
 */
export function csvLabels(csvPath: string, options: CsvLabelOptions = {}): Map<string, string> {
  const idColumn = options.idColumn ?? 'image_id';
  const labelColumn = options.labelColumn ?? 'label';
  const labels = new Map<string, string>();
  const lineOf = new Map<string, number>();
  for (const { line, values } of readCsv(csvPath, [idColumn, labelColumn])) {
    const id = values[idColumn];
    const label = values[labelColumn];
    if (id === '') throw new LabelSourceError(`${csvPath}: line ${line}: empty ${idColumn}`, csvPath, line);
    if (label === '') throw new LabelSourceError(`${csvPath}: line ${line}: ${idColumn} "${id}" has an empty ${labelColumn}`, csvPath, line);
    const before = labels.get(id);
    if (before !== undefined && before !== label) {
      throw new LabelSourceError(
        `${csvPath}: line ${line}: ${idColumn} "${id}" is labelled "${label}" here but "${before}" on line ${lineOf.get(id)}`,
        csvPath,
        line,
      );
    }
    if (before === undefined) {
      labels.set(id, label);
      lineOf.set(id, line);
    }
  }
  return labels;
}
