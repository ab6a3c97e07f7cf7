// Test fixture: a real model.onnx, trained here in a few seconds — resnet-tiny on generated
// red-vs-blue PNGs (presized with the same code evaluation uses), exported with the metadata a
// paddock run writes (vocab, normalisation, presize, training augmentation, training seed).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema, Split, type DatasetManifest } from '@paddock/contracts';
import { Learner, architectures, exportInference, resnet, type Batch, type DataLoaders } from '@paddock/learner';
import { saveModel } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
import { augTransforms, presize, type AugmentOptions } from '@paddock/vision';
import sharp from 'sharp';

export const vocab = ['blue', 'red'];
export const size = 16;
const mean = [0.5, 0.5, 0.5] as const;
const std = [0.25, 0.25, 0.25] as const;

/** A noisy 20×16 image of the label's colour; `i` varies the tone and the noise. */
export async function colourImage(path: string, label: string, i: number): Promise<void> {
  const w = 20;
  const h = 16;
  const px = Buffer.alloc(w * h * 3);
  const tone = 40 + ((i * 37) % 60);
  const rgb = label === 'red' ? [200, tone, tone] : [tone, tone, 200];
  for (let k = 0; k < px.length; k++) px[k] = Math.max(0, Math.min(255, rgb[k % 3] + ((k * 7919 + i * 104729) % 41) - 20));
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
}

function toBatch(pixels: Uint8Array[], labels: number[]): Batch {
  const n = pixels.length;
  const data = new Float32Array(n * 3 * size * size);
  pixels.forEach((img, b) => {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[((b * 3 + c) * size + y) * size + x] = (img[(y * size + x) * 3 + c] / 255 - mean[c]) / std[c];
  });
  return { images: tensor('float32', [n, 3, size, size], data), labels: tensor('int64', [n], BigInt64Array.from(labels.map(BigInt))) };
}

export interface TinyRun {
  dir: string;
  manifest: DatasetManifest;
  modelPath: string;
  /** The same weights exported with an augmentation that changes nothing (for exact TTA checks). */
  identityModelPath: string;
}

/** 16 train + 5 valid images per label under dir/train_images/<label>/, and the trained model. */
export async function tinyRun(augment: Partial<AugmentOptions> = { minScale: 0.75 }): Promise<TinyRun> {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-eval-'));
  const items = [];
  for (const [labelId, label] of vocab.entries()) {
    mkdirSync(join(dir, 'train_images', label), { recursive: true });
    for (let i = 0; i < 21; i++) {
      const path = `train_images/${label}/${label}_${i}.png`;
      await colourImage(join(dir, path), label, i);
      items.push(create(ItemSchema, { path, label, labelId, split: i < 16 ? Split.TRAIN : Split.VALID }));
    }
  }
  const manifest = create(DatasetManifestSchema, { dataDir: dir, vocab, items, splitSeed: 42, validPct: 0.2 });
  const train = await Promise.all(items.filter((i) => i.split === Split.TRAIN).map(async (i) => ({ px: (await presize(join(dir, i.path), { size, method: 'squish' })).data, y: i.labelId })));
  const batchSize = 8;
  const dls: DataLoaders = {
    batchSize,
    classes: 2,
    trainBatches: train.length / batchSize,
    async *train(epoch) {
      // Interleave the labels; a fixed order per epoch is enough for a fixture.
      const order = train.map((_, k) => k).sort((a, b) => ((a * 7 + epoch) % train.length) - ((b * 7 + epoch) % train.length));
      for (let s = 0; s + batchSize <= order.length; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        yield toBatch(idx.map((k) => train[k].px), idx.map((k) => train[k].y));
      }
    },
    async *valid() {
      yield toBatch(train.slice(0, 8).map((t) => t.px), train.slice(0, 8).map((t) => t.y));
    },
  };
  const model = resnet({ ...architectures['resnet-tiny'], classes: 2, seed: 3 }, { channels: 3, height: size, width: size });
  const learn = await Learner.create(model, dls, { threads: 2 });
  await learn.fitOneCycle(2, 1e-2);
  const trained = learn.trainedModel();
  const info = (aug: AugmentOptions, presizeSize: number) => ({
    vocab,
    mean: [...mean],
    std: [...std],
    height: size,
    width: size,
    extra: { presize: { method: 'squish', padMode: 'reflection', size: [presizeSize, presizeSize] }, augment: augTransforms(aug), training: { seed: 7 } },
  });
  const modelPath = join(dir, 'model.onnx');
  saveModel(modelPath, exportInference(trained, info({ size, mean, std, ...augment }, 20)));
  const identityModelPath = join(dir, 'identity.onnx');
  const still: AugmentOptions = { size, mean, std, doFlip: false, maxRotate: 0, maxZoom: 1, maxWarp: 0, maxLighting: 0, minScale: 1 };
  saveModel(identityModelPath, exportInference(trained, info(still, size)));
  await learn.engine.release();
  return { dir, manifest, modelPath, identityModelPath };
}
