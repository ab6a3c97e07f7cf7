import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSample, scoreSubmission, SubmissionError, writeSubmission } from '../src/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-submission-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): SubmissionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SubmissionError);
    return err as SubmissionError;
  }
  throw new Error('expected a SubmissionError');
}

const vocab = ['blast', 'brown_spot', 'normal'];

describe('writeSubmission', () => {
  it('keeps the sample order exactly (10.jpg before 9.jpg) and counts labels', () => {
    const samplePath = join(dir, 'sample_submission.csv');
    writeFileSync(samplePath, 'image_id,label\n10.jpg,\n9.jpg,\n100.jpg,\n');
    const sample = readSample(samplePath);
    expect(sample).toEqual(['10.jpg', '9.jpg', '100.jpg']);
    const out = join(dir, 'out', 'submission.csv');
    const result = writeSubmission({
      path: out,
      sample,
      vocab,
      rows: [
        { imageId: '10.jpg', label: 'normal' },
        { imageId: '9.jpg', label: 'blast' },
        { imageId: '100.jpg', label: 'normal' },
      ],
    });
    expect(result).toEqual({ rows: 3, path: out, labelCounts: { blast: 1, brown_spot: 0, normal: 2 } });
    expect(readFileSync(out, 'utf8')).toBe('image_id,label\n10.jpg,normal\n9.jpg,blast\n100.jpg,normal\n');
    expect(readSample(out)).toEqual(sample);
  });

  it('rejects rows out of sample order, naming the row and both ids, and writes nothing', () => {
    const out = join(dir, 'submission.csv');
    const err = thrown(() =>
      writeSubmission({
        path: out,
        sample: ['10.jpg', '9.jpg'],
        vocab,
        rows: [
          { imageId: '9.jpg', label: 'blast' },
          { imageId: '10.jpg', label: 'blast' },
        ],
      }),
    );
    expect(err.message).toBe(`${out}: row 1: expected image_id "10.jpg" (sample submission order), found "9.jpg"`);
    expect([err.exitCode, err.row, err.file]).toEqual([2, 1, out]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a row count that differs from the sample', () => {
    const err = thrown(() =>
      writeSubmission({ path: join(dir, 's.csv'), sample: ['a.jpg', 'b.jpg'], vocab, rows: [{ imageId: 'a.jpg', label: 'blast' }] }),
    );
    expect(err.message).toMatch(/1 rows but the sample submission has 2; first sample id without a row: "b.jpg"/);
  });

  it('rejects a label outside the vocab and leaves an existing file untouched', () => {
    const out = join(dir, 'submission.csv');
    writeFileSync(out, 'previous\n');
    const err = thrown(() =>
      writeSubmission({
        path: out,
        vocab,
        rows: [
          { imageId: '1.jpg', label: 'blast' },
          { imageId: '2.jpg', label: 'Blast' },
        ],
      }),
    );
    expect(err.message).toBe(`${out}: row 2 (2.jpg): label "Blast" is not in the vocab (3 labels: blast, brown_spot, normal)`);
    expect(err.row).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
  });

  it('rejects repeated ids without a sample', () => {
    const err = thrown(() =>
      writeSubmission({ path: join(dir, 's.csv'), vocab, rows: [{ imageId: 'x', label: 'blast' }, { imageId: 'x', label: 'normal' }] }),
    );
    expect(err.message).toMatch(/row 2 repeats image_id "x" \(first in row 1\)/);
  });

  it('writes atomically: replaces the old file and leaves no temp file behind', () => {
    const out = join(dir, 'submission.csv');
    writeFileSync(out, 'old\n');
    writeSubmission({ path: out, vocab, rows: [{ imageId: 'a,b.jpg', label: 'brown_spot' }] });
    expect(readdirSync(dir)).toEqual(['submission.csv']);
    // An id with a comma is quoted, and reads back whole.
    expect(readFileSync(out, 'utf8')).toBe('image_id,label\n"a,b.jpg",brown_spot\n');
    expect(readSample(out)).toEqual(['a,b.jpg']);
  });

  it('cleans the temp file up when the rename fails', () => {
    // The target path is a non-empty folder: the temp file is written, then rename onto it fails.
    const out = join(dir, 'submission.csv');
    mkdirSync(join(out, 'inside'), { recursive: true });
    const err = thrown(() => writeSubmission({ path: out, vocab, rows: [{ imageId: 'a', label: 'blast' }] }));
    expect(err.message).toMatch(/^cannot write submission .*submission\.csv: /);
    expect(readdirSync(dir)).toEqual(['submission.csv']);
  });
});

describe('readSample', () => {
  it('handles a BOM, CRLF line ends and extra columns', () => {
    const p = join(dir, 'sample.csv');
    writeFileSync(p, '\ufeffimage_id,label,extra\r\n200001.jpg,,x\r\n200002.jpg,,y\r\n');
    expect(readSample(p)).toEqual(['200001.jpg', '200002.jpg']);
  });

  it('names the file and line of malformed CSV', () => {
    const p = join(dir, 'bad.csv');
    writeFileSync(p, 'image_id,label\n1.jpg,\n2.jpg,a,b\n');
    const err = thrown(() => readSample(p));
    expect(err.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: malformed CSV`));
    expect(err.line).toBe(3);
    writeFileSync(p, 'image_id,label\n"1.jpg,\n');
    expect(thrown(() => readSample(p)).message).toMatch(/bad\.csv:2: malformed CSV \(Quote Not Closed/);
  });

  it('names the file and line 1 when the image_id header is missing', () => {
    const p = join(dir, 'noheader.csv');
    writeFileSync(p, '200001.jpg,\n200002.jpg,\n');
    const err = thrown(() => readSample(p));
    expect(err.message).toBe(`${p}:1: no image_id column in the header (found: "200001.jpg", ""); the first line must name the columns, e.g. "image_id"`);
    expect(err.line).toBe(1);
  });

  it('refuses empty files, blank ids, repeated ids and missing files', () => {
    const p = join(dir, 's.csv');
    writeFileSync(p, '');
    expect(thrown(() => readSample(p)).message).toMatch(/empty sample submission/);
    writeFileSync(p, 'image_id\na\n\n""\n');
    expect(thrown(() => readSample(p)).message).toMatch(/s\.csv:4: row 2 has an empty image_id/);
    writeFileSync(p, 'image_id\na\nb\na\n');
    expect(thrown(() => readSample(p)).message).toMatch(/s\.csv:4: row 3 repeats image_id "a" \(first on line 2\)/);
    expect(thrown(() => readSample(join(dir, 'nope.csv'))).message).toMatch(/cannot read sample submission .*nope\.csv/);
  });
});

describe('scoreSubmission', () => {
  it('scores against held labels: missing ids count as wrong, unknown ids are listed', () => {
    const labels = join(dir, 'test_labels.csv');
    writeFileSync(labels, 'image_id,label\n1.png,cat\n2.png,dog\n3.png,dog\n4.png,bird\n5.png,cat\n');
    const sub = join(dir, 'submission.csv');
    writeFileSync(sub, 'image_id,label\n2.png,dog\n1.png,dog\n3.png,dog\n4.png,cat\n9.png,cat\n');
    // 1 cat→dog ✗, 2 dog ✓, 3 dog ✓, 4 bird→cat ✗, 5 missing ✗ → 2 / 5
    const score = scoreSubmission(sub, labels);
    expect(score).toEqual({
      accuracy: 0.4,
      errorRate: 0.6,
      correct: 2,
      total: 5,
      scored: 4,
      vocab: ['bird', 'cat', 'dog'],
      confusion: [
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 2],
      ],
      missing: ['5.png'],
      unexpected: ['9.png'],
    });
  });

  it('adds predicted labels unknown to the truth to the vocab', () => {
    const labels = join(dir, 'l.csv');
    writeFileSync(labels, 'image_id,label\na,x\nb,y\n');
    const sub = join(dir, 's.csv');
    writeFileSync(sub, 'image_id,label\na,x\nb,z\n');
    const score = scoreSubmission(sub, labels);
    expect([score.accuracy, score.vocab, score.confusion]).toEqual([0.5, ['x', 'y', 'z'], [[1, 0, 0], [0, 0, 1], [0, 0, 0]]]);
  });

  it('refuses a submission with a blank label, naming file and line', () => {
    const labels = join(dir, 'l.csv');
    writeFileSync(labels, 'image_id,label\na,x\n');
    const sub = join(dir, 's.csv');
    writeFileSync(sub, 'image_id,label\na,\n');
    expect(thrown(() => scoreSubmission(sub, labels)).message).toBe(`${sub}:2: row 1 (a) has an empty label`);
    writeFileSync(sub, 'image_id\na\n');
    expect(thrown(() => scoreSubmission(sub, labels)).message).toMatch(/s\.csv:1: no label column/);
  });
});
