// The training stage on real files: presize, augmented batches, fit_one_cycle, metrics.csv and an
// exported model.onnx; the same seed gives the same numbers.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema, Split } from '@paddock/contracts';
import { loadModel } from '@paddock/onnx';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { findLr, train, type TrainingRecipe } from '../src/index.ts';

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

describe('train --resume', () => {
  it('a fine_tune run killed after its first epoch and resumed ends with the same weights and metrics as an uninterrupted run', async () => {
    const manifest = await dataset();
    const training: TrainingRecipe = { ...recipe, schedule: [{ fineTune: { epochs: 1, baseLr: 1e-2 } }], metrics: ['error_rate', 'accuracy'], threads: 1 };
    const base = { manifest, training, presize: { size: 20, method: 'squish' as const }, augment: { size: 16, minScale: 0.75 } };
    const whole = await train({ ...base, outDir: mkdtempSync(join(tmpdir(), 'paddock-train-whole-')) });

    const outDir = mkdtempSync(join(tmpdir(), 'paddock-train-killed-'));
    const kill = { afterEpoch() { throw new Error('killed'); } };
    await expect(train({ ...base, outDir, callbacks: [kill] })).rejects.toThrow('killed');
    expect(existsSync(join(outDir, 'checkpoint.bin'))).toBe(true);
    expect(existsSync(join(outDir, 'model.onnx'))).toBe(false);
    const resumed = await train({ ...base, outDir, resume: true });

    expect(resumed.history.map((h) => [h.epoch, h.trainLoss, h.validLoss, h.errorRate])).toEqual(whole.history.map((h) => [h.epoch, h.trainLoss, h.validLoss, h.errorRate]));
    const a = loadModel(whole.modelPath).graph.initializers;
    const b = loadModel(resumed.modelPath).graph.initializers;
    let worst = 0;
    for (const [name, t] of a) (t.data as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (b.get(name)!.data as Float32Array)[i]))));
    expect(worst).toBeLessThan(1e-6);
    expect(readFileSync(resumed.lossPlotPath).subarray(1, 4).toString()).toBe('PNG');

    await expect(train({ ...base, training: { ...training, seed: 8 }, outDir, resume: true })).rejects.toThrow(/different recipe/);
  }, 120_000);
});

describe('findLr', () => {
  it('sweeps, writes lr-find.png and lr-find.json with the suggestions, and logs them', async () => {
    const manifest = await dataset();
    const outDir = mkdtempSync(join(tmpdir(), 'paddock-lrfind-'));
    const lines: string[] = [];
    const found = await findLr({ manifest, training: { ...recipe, threads: 1 }, presize: { size: 20, method: 'squish' }, augment: { size: 16, minScale: 0.75 }, outDir, lrFind: { numIt: 12, endLr: 1 }, log: (m) => lines.push(m) });
    expect(found.result.lrs.length).toBeGreaterThan(0);
    expect(readFileSync(found.plotPath).subarray(1, 4).toString()).toBe('PNG');
    const json = JSON.parse(readFileSync(found.jsonPath, 'utf8'));
    expect(Object.keys(json.suggestions)).toEqual(['minimum', 'steep', 'valley', 'slide']);
    expect(lines.join('\n')).toMatch(/valley: /);
  }, 60_000);

  it('saveModel writes an inference-ready best-model.onnx; extra metrics get columns in metrics.csv', async () => {
    const manifest = await dataset();
    const outDir = mkdtempSync(join(tmpdir(), 'paddock-best-'));
    const t = await train({ manifest, training: { ...recipe, threads: 1, metrics: ['error_rate', 'top_2_accuracy'], saveModel: { monitor: 'valid_loss' }, earlyStopping: { patience: 2 } }, presize: { size: 20, method: 'squish' }, augment: { size: 16, minScale: 0.75 }, outDir });
    const best = t.history.reduce((b, h) => (h.validLoss < b.validLoss ? h : b));
    const model = loadModel(join(outDir, 'best-model.onnx'));
    expect(JSON.parse(model.metadata['paddock.bestEpoch'])).toBe(best.epoch);
    expect(JSON.parse(model.metadata['paddock.vocab'])).toEqual(vocab);
    const csv = readFileSync(t.metricsPath, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,valid_loss,error_rate,accuracy,top_2_accuracy,time_s,images_per_s');
    expect(csv.slice(1).every((l) => l.split(',')[5] === '1')).toBe(true);
  }, 60_000);

  it('refuses fp16 on CPU with the field and the fix', async () => {
    const manifest = await dataset();
    await expect(train({ manifest, training: { ...recipe, fp16: true }, presize: { size: 20 }, augment: { size: 16 }, outDir: mkdtempSync(join(tmpdir(), 'paddock-fp16-')) })).rejects.toThrow(/training.fp16: mixed precision needs the CUDA/);
  });
});

describe('presizing guards and cache', () => {
  it('validation images go through the pixel limit and the presize cache, like training images', async () => {
    const manifest = await dataset();
    // One validation image far larger than any training image (24-28 × 20 = at most 560 pixels).
    const big = 'blue/big.png';
    await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 40, g: 40, b: 200 } } }).png().toFile(join(manifest.dataDir, big));
    const withBig = create(DatasetManifestSchema, { ...manifest, items: [...manifest.items, create(ItemSchema, { path: big, label: 'blue', labelId: 0, split: Split.VALID })] });
    const base = { training: { ...recipe, epochs: 1, threads: 1 }, presize: { size: 20, method: 'squish' as const }, augment: { size: 16 } };
    await expect(train({ ...base, manifest: withBig, maxPixels: 1000, outDir: mkdtempSync(join(tmpdir(), 'paddock-bomb-')) })).rejects.toThrow(/blue\/big\.png.*pixel limit 1000/);

    const cache = mkdtempSync(join(tmpdir(), 'paddock-presize-cache-'));
    await train({ ...base, manifest, presizeCache: cache, outDir: mkdtempSync(join(tmpdir(), 'paddock-cached-')) });
    // 32 training and 8 validation images, each presized once into the cache.
    const entries = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? entries(join(dir, e.name)) : [e.name]));
    expect(entries(cache)).toHaveLength(40);
  }, 60_000);
});
