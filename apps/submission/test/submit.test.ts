// submit() with a real model.onnx (resnet-tiny as initialised — the order and the TTA path are
// under test, not accuracy): rows in sample order with nested, shuffled-looking ids, labels from
// the vocab, and TTA labels equal to the argmax of the blend recomputed from the Predictor.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema, Split } from '@paddock/contracts';
import { Predictor, architectures, argmaxRows, blendTta, exportInference, resnet } from '@paddock/learner';
import { saveModel } from '@paddock/onnx';
import { augTransforms } from '@paddock/vision';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { submit } from '../src/index.ts';

const vocab = ['blue', 'green', 'red'];
let dir: string;
let modelPath: string;
// Sample order as Kaggle might give it: not sorted, 10 before 9, one id in a sub-folder.
const ids = ['10.png', '9.png', 'b/1.png', '100.png', '2.png'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-submit-'));
  mkdirSync(join(dir, 'test_images', 'b'), { recursive: true });
  for (const [i, id] of ids.entries()) {
    await sharp({ create: { width: 24, height: 18, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 90 } } }).png().toFile(join(dir, 'test_images', id));
  }
  const model = resnet({ ...architectures['resnet-tiny'], classes: 3, seed: 5 }, { channels: 3, height: 16, width: 16 });
  modelPath = join(dir, 'model.onnx');
  saveModel(modelPath, exportInference(model, {
    vocab, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], height: 16, width: 16,
    extra: { presize: { method: 'squish', padMode: 'reflection', size: [20, 20] }, augment: augTransforms({ size: 16 }), training: { seed: 3 } },
  }));
}, 60_000);

function manifest() {
  return create(DatasetManifestSchema, {
    dataDir: dir,
    vocab,
    items: [create(ItemSchema, { path: 'x.png', label: 'red', labelId: 2, split: Split.TRAIN })],
    testItems: ids.map((id) => create(ItemSchema, { path: `test_images/${id}`, imageId: id })),
    testOrder: 'sample',
  });
}

describe('submit', () => {
  it('writes one row per sample id in sample order, labels as the model predicts each file', async () => {
    const out = join(dir, 'plain');
    const { created, unreadable } = await submit({ manifest: manifest(), modelPath, outDir: out, batchSize: 2 });
    expect(unreadable).toEqual([]);
    const rows = readFileSync(join(out, 'submission.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('image_id,label');
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(ids);
    const predictor = await Predictor.load(modelPath, { threads: 2 });
    const { probs } = await predictor.predictFiles(ids.map((id) => join(dir, 'test_images', id)));
    expect(rows.slice(1).map((r) => r.split(',')[1])).toEqual(Array.from(argmaxRows(probs, 3), (k) => vocab[k]));
    await predictor.release();
    expect(created.rows).toBe(5);
    expect(Object.values(created.labelCounts).reduce((a, b) => a + b, 0)).toBe(5);
  }, 60_000);

  it('with TTA: labels are the argmax of (1 − β)·mean(aug) + β·plain, seeded by the training seed', async () => {
    const out = join(dir, 'tta');
    await submit({ manifest: manifest(), modelPath, outDir: out, tta: { n: 3, beta: 0.25 } });
    const labels = readFileSync(join(out, 'submission.csv'), 'utf8').trim().split('\n').slice(1).map((r) => r.split(',')[1]);
    const predictor = await Predictor.load(modelPath, { threads: 2 });
    const paths = ids.map((id) => join(dir, 'test_images', id));
    const plain = await predictor.predictFiles(paths);
    const aug = await predictor.predictFilesAugmented(paths, { n: 3, seed: 3 });
    expect(labels).toEqual(Array.from(argmaxRows(blendTta(plain.probs, aug.runs, 0.25), 3), (k) => vocab[k]));
    await predictor.release();
  }, 60_000);
});
