import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readSample, scoreSubmission, writeSubmission } from '@paddock/submission';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_LABELS, materializeFashionMnist } from '../src/demo-data.ts';

const root = mkdtempSync(join(tmpdir(), 'paddock-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

const sha = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const csvRows = (path: string) => readFileSync(path, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(','));

async function pixels(path: string) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}

describe('materializeFashionMnist', () => {
  const a = join(root, 'a');
  const opts = { dir: a, perClass: 5, testPerClass: 2, seed: 7 };

  it('writes the Kaggle layout with the requested counts', async () => {
    const result = await materializeFashionMnist(opts);
    expect(result).toEqual({ dir: a, train: 50, test: 20, labels: [...FASHION_MNIST_LABELS], reused: false });
    expect(readdirSync(a).sort()).toEqual(['paddock-demo.json', 'sample_submission.csv', 'test_images', 'test_labels.csv', 'train.csv', 'train_images']);
    expect(readdirSync(join(a, 'train_images')).sort()).toEqual([...FASHION_MNIST_LABELS].sort());
    for (const label of FASHION_MNIST_LABELS) {
      const files = readdirSync(join(a, 'train_images', label));
      expect(files).toHaveLength(5);
      for (const f of files) expect(f).toMatch(new RegExp(`^${label}_\\d+\\.png$`));
    }
    const testIds = readdirSync(join(a, 'test_images')).sort();
    expect(testIds).toEqual(Array.from({ length: 20 }, (_, i) => `${100001 + i}.png`));

    const train = csvRows(join(a, 'train.csv'));
    expect(readFileSync(join(a, 'train.csv'), 'utf8').split('\n')[0]).toBe('image_id,label');
    expect(train).toHaveLength(50);
    for (const [id, label] of train) expect(statSync(join(a, 'train_images', label, id)).isFile()).toBe(true);

    const truth = csvRows(join(a, 'test_labels.csv'));
    expect(truth.map(([id]) => id)).toEqual(testIds);
    for (const label of FASHION_MNIST_LABELS) expect(truth.filter(([, l]) => l === label)).toHaveLength(2);
  });

  it('writes every image as an 8-bit single-channel 28×28 PNG', async () => {
    for (const f of listFiles(a).filter((p) => p.endsWith('.png'))) {
      const meta = await sharp(join(a, f)).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels, meta.depth]).toEqual(['png', 28, 28, 1, 'uchar']);
    }
  });

  it('lists the test ids in the sample in a shuffled order, with empty labels', () => {
    const sample = readSample(join(a, 'sample_submission.csv'));
    const ids = readdirSync(join(a, 'test_images')).sort();
    expect([...sample].sort()).toEqual(ids);
    expect(sample).not.toEqual(ids);
    expect(csvRows(join(a, 'sample_submission.csv')).every((r) => r.length === 2 && r[1] === '')).toBe(true);
  });

  it('keeps train and test disjoint, down to the pixels', async () => {
    const hashes = async (sub: string) =>
      Promise.all(listFiles(join(a, sub)).map(async (f) => sha((await pixels(join(a, sub, f))).data)));
    const trainHashes = await hashes('train_images');
    const testHashes = await hashes('test_images');
    expect(new Set(trainHashes).size).toBe(50);
    expect(new Set(testHashes).size).toBe(20);
    expect(testHashes.some((h) => trainHashes.includes(h))).toBe(false);
  });

  it('uses Fashion-MNIST class ids: sneakers leave the top rows empty, trousers and coats fill them', async () => {
    // Mean grey value of the top 4 rows over a class's images. Sneakers are short and centred, so
    // these rows are black (≤ 17 on every one of 300 sneakers checked), while trousers, coats and
    // pullovers start at the top edge (class medians ≈ 60). A shifted or shuffled class order
    // would put other garments under these names.
    const topInk = async (label: string) => {
      let sum = 0;
      const files = readdirSync(join(a, 'train_images', label));
      for (const f of files) {
        const { data, info } = await pixels(join(a, 'train_images', label, f));
        for (let i = 0; i < 4 * 28; i++) sum += data[i * info.channels];
      }
      return sum / (files.length * 4 * 28);
    };
    expect(await topInk('Sneaker')).toBeLessThan(5);
    for (const label of ['Trouser', 'Coat', 'Pullover']) expect(await topInk(label)).toBeGreaterThan(20);
  });

  it('is deterministic: the same seed gives byte-identical files, another seed does not', async () => {
    const b = join(root, 'b');
    await materializeFashionMnist({ ...opts, dir: b });
    const digest = (d: string) => listFiles(d).map((f) => `${f} ${sha(readFileSync(join(d, f)))}`);
    expect(digest(b)).toEqual(digest(a));
    const c = join(root, 'c');
    await materializeFashionMnist({ ...opts, dir: c, seed: 8 });
    expect(readSample(join(c, 'sample_submission.csv'))).not.toEqual(readSample(join(a, 'sample_submission.csv')));
    expect(listFiles(join(c, 'train_images'))).not.toEqual(listFiles(join(a, 'train_images')));
  });

  it('reuses a complete materialization and rewrites when the parameters change', async () => {
    const before = statSync(join(a, 'train.csv')).mtimeMs;
    expect((await materializeFashionMnist(opts)).reused).toBe(true);
    expect(statSync(join(a, 'train.csv')).mtimeMs).toBe(before);

    writeFileSync(join(a, 'notes.txt'), 'mine');
    const smaller = await materializeFashionMnist({ ...opts, perClass: 3 });
    expect([smaller.reused, smaller.train, smaller.test]).toEqual([false, 30, 20]);
    for (const label of FASHION_MNIST_LABELS) expect(readdirSync(join(a, 'train_images', label))).toHaveLength(3);
    expect(readFileSync(join(a, 'notes.txt'), 'utf8')).toBe('mine');

    // A hand-edited CSV no longer matches the marker's digest: the next call rewrites it.
    writeFileSync(join(a, 'train.csv'), 'image_id,label\n');
    expect((await materializeFashionMnist({ ...opts, perClass: 3 })).reused).toBe(false);
    expect(csvRows(join(a, 'train.csv'))).toHaveLength(30);
  });

  it('feeds the submission stage: a perfect submission in sample order scores 1', async () => {
    const sample = readSample(join(a, 'sample_submission.csv'));
    const truth = new Map(csvRows(join(a, 'test_labels.csv')).map(([id, label]) => [id, label]));
    const out = join(root, 'submission.csv');
    writeSubmission({ path: out, sample, vocab: [...FASHION_MNIST_LABELS].sort(), rows: sample.map((id) => ({ imageId: id, label: truth.get(id)! })) });
    const score = scoreSubmission(out, join(a, 'test_labels.csv'));
    expect([score.accuracy, score.total, score.missing]).toEqual([1, 20, []]);
  });

  it('rejects counts that are not positive integers', async () => {
    await expect(materializeFashionMnist({ dir: join(root, 'x'), perClass: 0 })).rejects.toThrow(/perClass must be a positive integer/);
    await expect(materializeFashionMnist({ dir: join(root, 'x'), testPerClass: 1.5 })).rejects.toThrow(/testPerClass/);
  });
});
