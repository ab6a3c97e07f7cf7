// The training stage on real files: presize, augmented batches, fit_one_cycle, metrics.csv and an
// exported model.onnx; the same seed gives the same numbers.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema, Split } from '@paddock/contracts';
import { loadModel } from '@paddock/onnx';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { train, type TrainingRecipe } from '../src/index.ts';

const vocab = ['blue', 'red'];

async function dataset() {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-train-'));
  const items = [];
  for (const [labelId, label] of vocab.entries()) {
    mkdirSync(join(dir, label));
    for (let i = 0; i < 20; i++) {
      const path = `${label}/${i}.png`;
      const tone = 40 + ((i * 37) % 50);
      const rgb = label === 'red' ? { r: 200, g: tone, b: tone } : { r: tone, g: tone, b: 200 };
      await sharp({ create: { width: 24 + (i % 5), height: 20, channels: 3, background: rgb } }).png().toFile(join(dir, path));
      items.push(create(ItemSchema, { path, label, labelId, split: i < 16 ? Split.TRAIN : Split.VALID }));
    }
  }
  return create(DatasetManifestSchema, { dataDir: dir, vocab, items, splitSeed: 42, validPct: 0.2 });
}

const recipe: TrainingRecipe = { arch: 'resnet-tiny', epochs: 3, batchSize: 8, lrMax: 1e-2, wd: 0.01, pctStart: 0.25, div: 25, divFinal: 1e5, moms: [0.95, 0.85, 0.95], seed: 7, device: 'cpu', threads: 2 };

describe('train', () => {
  it('fits, writes metrics.csv and model.onnx, and repeats itself exactly with the same seed', async () => {
    const manifest = await dataset();
    const run = async (outDir: string) => train({ manifest, training: recipe, presize: { size: 20, method: 'squish' }, augment: { size: 16, minScale: 0.75 }, outDir });
    const out1 = mkdtempSync(join(tmpdir(), 'paddock-train-out-'));
    const a = await run(out1);
    expect(a.history).toHaveLength(3);
    const csv = readFileSync(a.metricsPath, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,valid_loss,error_rate,accuracy,time_s,images_per_s');
    expect(csv).toHaveLength(4);
    // 32 training images, batch 8: four steps per epoch; colours are easy, so it must be right.
    expect(a.history[2].errorRate).toBeLessThanOrEqual(0.125);
    const model = loadModel(a.modelPath);
    expect(JSON.parse(model.metadata['paddock.vocab'])).toEqual(vocab);
    expect(JSON.parse(model.metadata['paddock.input'])).toMatchObject({ layout: 'NHWC', dtype: 'uint8', height: 16, width: 16 });
    expect(JSON.parse(model.metadata['paddock.presize'])).toMatchObject({ method: 'squish' });
    const b = await run(mkdtempSync(join(tmpdir(), 'paddock-train-out-')));
    expect(b.history.map((h) => [h.trainLoss, h.validLoss, h.errorRate])).toEqual(a.history.map((h) => [h.trainLoss, h.validLoss, h.errorRate]));
  }, 120_000);
});
