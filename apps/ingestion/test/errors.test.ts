import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, ingest, type IngestSpec } from '../src/index.ts';
import { image, put, tempDir } from './make-images.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function dataset(tag: string): string {
  const d = tempDir(tag);
  dirs.push(d);
  return d;
}

/** Runs ingest expecting a DatasetError; also checks no file was inspected before it was thrown. */
async function refused(spec: IngestSpec): Promise<DatasetError & { progressed: boolean }> {
  let progressed = false;
  try {
    await ingest({ ...spec, onProgress: () => (progressed = true) });
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    const err = e as DatasetError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(err.path);
    expect(err.message).toContain(`fix: ${err.fix}`);
    expect(err.fix.length).toBeGreaterThan(10);
    return Object.assign(err, { progressed });
  }
  throw new Error('expected a DatasetError');
}

describe('DatasetError before any work', () => {
  it('for a data dir that does not exist', async () => {
    const missing = join(dataset('gone'), 'nope');
    const e = await refused({ dataDir: missing });
    expect(e.path).toBe(missing);
    expect(e.message).toMatch(/does not exist/);
  });

  it('for a data dir that is a file', async () => {
    const d = dataset('file');
    const f = put(d, 'data.zip', 'PK');
    expect((await refused({ dataDir: f })).message).toMatch(/is not a directory/);
  });

  it('for an empty data dir (hidden files do not count)', async () => {
    const d = dataset('empty');
    put(d, '.DS_Store', 'x');
    const e = await refused({ dataDir: d });
    expect(e.message).toBe(`data dir ${d} is empty\nfix: ${e.fix}`);
  });

  it('for a data dir without train_images, listing what is there', async () => {
    const d = dataset('notrain');
    mkdirSync(join(d, 'images'));
    put(d, 'train.csv', 'image_id,label\n');
    const e = await refused({ dataDir: d });
    expect(e.path).toBe(join(d, 'train_images'));
    expect(e.message).toContain('found: images, train.csv');
  });

  it('for train_images with no labelled image in it', async () => {
    const d = dataset('nolabels');
    put(d, 'train_images/readme.txt', 'hi');
    put(d, 'train_images/loose.jpg', await image('jpeg', 8, 8));
    const e = await refused({ dataDir: d });
    expect(e.message).toMatch(/no labelled images/);
    expect(e.progressed).toBe(false);
  });

  it('for a sample_submission.csv naming files test_images lacks, listing the first few with lines', async () => {
    const d = dataset('sample');
    put(d, 'train_images/a/1.png', await image('png', 8, 8));
    put(d, 'test_images/t1.jpg', await image('jpeg', 8, 8));
    const ids = ['t1.jpg', ...Array.from({ length: 7 }, (_, i) => `m${i}.jpg`)];
    put(d, 'sample_submission.csv', `image_id,label\n${ids.map((i) => `${i},`).join('\n')}\n`);
    const e = await refused({ dataDir: d });
    expect(e.path).toBe(join(d, 'sample_submission.csv'));
    expect(e.message).toContain('lists 7 image_id(s) with no file in test_images/: m0.jpg (line 3), m1.jpg (line 4), m2.jpg (line 5), m3.jpg (line 6), m4.jpg (line 7) and 2 more');
    expect(e.progressed).toBe(false);
  });

  it('for a sample listing an id twice', async () => {
    const d = dataset('twice');
    put(d, 'train_images/a/1.png', await image('png', 8, 8));
    put(d, 'test_images/t1.jpg', await image('jpeg', 8, 8));
    put(d, 'sample_submission.csv', 'image_id,label\nt1.jpg,\nt1.jpg,\n');
    expect((await refused({ dataDir: d })).message).toContain('line 3: image_id "t1.jpg" already listed on line 2');
  });

  it('for a malformed train.csv, naming the file and the line', async () => {
    const d = dataset('badcsv');
    put(d, 'train_images/a/1.png', await image('png', 8, 8));
    const csv = put(d, 'train.csv', 'image_id,label\n1.png,a\n2.png,a,extra\n');
    const e = await refused({ dataDir: d });
    expect(e.path).toBe(csv);
    expect(e.message).toContain(`${csv}: line 3: malformed CSV`);
    expect(e.fix).toBe(`correct line 3 of ${csv} (or remove the file)`);
    expect(e.progressed).toBe(false);
  });

  it('for a spec out of range', async () => {
    const d = dataset('spec');
    put(d, 'train_images/a/1.png', await image('png', 8, 8));
    expect((await refused({ dataDir: d, validPct: 1 })).message).toMatch(/valid_pct 1 is outside \[0, 1\)/);
    expect((await refused({ dataDir: d, seed: -1 })).message).toMatch(/seed -1/);
    expect((await refused({ dataDir: d, maxPixels: 0 })).message).toMatch(/max_pixels 0/);
  });
});

describe('DatasetError after scanning', () => {
  it('when every labelled file is bad, with the counts and the audit attached', async () => {
    const d = dataset('allbad');
    const jpeg = await image('jpeg', 16, 16);
    put(d, 'train_images/a/empty.png', '');
    put(d, 'train_images/a/half.jpg', jpeg.subarray(0, jpeg.length >> 1));
    put(d, 'train_images/b/text.jpg', 'not an image');
    const e = await refused({ dataDir: d });
    expect(e.message).toContain('none of the 3 labelled images');
    expect(e.message).toContain('1 empty, 1 truncated, 1 not-an-image');
    expect(e.message).toContain('see the audit');
    expect(e.audit?.problems.map((p) => p.kind)).toEqual(['empty', 'truncated', 'not-an-image']);
  });
});
