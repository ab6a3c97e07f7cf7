// Writing the competition file: `image_id,label` rows in the sample submission's order, checked
// against the sample and the vocab BEFORE anything touches the disk, then written atomically
// (temp file in the target folder + rename) so a crash never leaves half a submission behind.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { readIdColumn } from './csv.ts';
import { SubmissionError } from './errors.ts';

export interface SubmissionRow {
  imageId: string;
  label: string;
}

export interface WriteSubmissionSpec {
  path: string;
  rows: readonly SubmissionRow[];
  /** image_ids in the sample submission's order; when given, rows must match it exactly. */
  sample?: readonly string[];
  vocab: readonly string[];
}

export interface WrittenSubmission {
  rows: number;
  path: string;
  /** Predicted count per vocab label, in vocab order, zeros included. */
  labelCounts: Record<string, number>;
}

/** The image_id column of a sample submission, in file order (labels, if any, are ignored). */
export function readSample(csvPath: string): string[] {
  return readIdColumn(csvPath, 'sample submission').map((r) => r.values.image_id);
}

/** Check rows against the sample and vocab; throws the first problem found as a SubmissionError. */
export function validateSubmission(spec: WriteSubmissionSpec): void {
  const file = spec.path;
  const { rows, sample, vocab } = spec;
  if (vocab.length === 0) throw new SubmissionError(`${file}: the vocab is empty, no label can be valid`, { file });
  if (sample) {
    if (rows.length !== sample.length) {
      const have = new Set(rows.map((r) => r.imageId));
      const firstMissing = sample.find((id) => !have.has(id));
      throw new SubmissionError(
        `${file}: ${rows.length} rows but the sample submission has ${sample.length}` +
          (firstMissing !== undefined ? `; first sample id without a row: "${firstMissing}"` : ''),
        { file },
      );
    }
    for (let i = 0; i < rows.length; i++) {
      if (rows[i].imageId !== sample[i]) {
        throw new SubmissionError(
          `${file}: row ${i + 1}: expected image_id "${sample[i]}" (sample submission order), found "${rows[i].imageId}"`,
          { file, row: i + 1 },
        );
      }
    }
  }
  const known = new Set(vocab);
  const seen = new Map<string, number>();
  rows.forEach((r, i) => {
    if (typeof r.imageId !== 'string' || r.imageId === '') {
      throw new SubmissionError(`${file}: row ${i + 1} has an empty image_id`, { file, row: i + 1 });
    }
    const first = seen.get(r.imageId);
    if (first !== undefined) {
      throw new SubmissionError(`${file}: row ${i + 1} repeats image_id "${r.imageId}" (first in row ${first})`, { file, row: i + 1 });
    }
    seen.set(r.imageId, i + 1);
    if (!known.has(r.label)) {
      const list = vocab.length <= 12 ? vocab.join(', ') : `${vocab.slice(0, 12).join(', ')}, …`;
      throw new SubmissionError(
        `${file}: row ${i + 1} (${r.imageId}): label "${r.label}" is not in the vocab (${vocab.length} labels: ${list})`,
        { file, row: i + 1 },
      );
    }
  });
}

export function writeSubmission(spec: WriteSubmissionSpec): WrittenSubmission {
  validateSubmission(spec);
  const path = resolve(spec.path);
  const text = stringify(
    spec.rows.map((r) => [r.imageId, r.label]),
    { header: true, columns: ['image_id', 'label'], record_delimiter: '\n' },
  );
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // Same folder as the target so rename is atomic (same filesystem); the name is unique per
  // process and moment, and dot-prefixed so a folder listing mid-write does not show it as data.
  const tmp = resolve(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new SubmissionError(`cannot write submission ${path}: ${(err as Error).message}`, { file: path });
  }
  const labelCounts: Record<string, number> = {};
  for (const label of spec.vocab) labelCounts[label] = 0;
  for (const r of spec.rows) labelCounts[r.label] += 1;
  return { rows: spec.rows.length, path, labelCounts };
}
