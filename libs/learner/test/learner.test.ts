// The Learner trains a real ResNet built here on a small, learnable, seeded image task, and the
// exported inference model reproduces the engine's eval-mode predictions.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '@paddock/onnx';
import { Random, tensor } from '@paddock/tensor';
import { Learner, architectures, exportInference, resnet, softmaxRows, type Batch, type DataLoaders } from '../src/index.ts';

const size = 16;
const mean = [0.5, 0.5, 0.5];
const std = [0.25, 0.25, 0.25];

/** Class 0: a bright horizontal bar; class 1: a bright vertical bar; random position and noise. */
function makeImages(n: number, seed: number): { pixels: Uint8Array[]; labels: number[] } {
  const r = new Random(seed);
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const img = new Uint8Array(size * size * 3);
    const at = 2 + r.int(size - 4);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const on = label === 0 ? Math.abs(y - at) <= 1 : Math.abs(x - at) <= 1;
        for (let c = 0; c < 3; c++) img[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, (on ? 200 : 60) + Math.round(r.normal() * 30)));
      }
    pixels.push(img);
    labels.push(label);
  }
  return { pixels, labels };
}

function toBatch(pixels: Uint8Array[], labels: number[]): Batch {
  const n = pixels.length;
  const data = new Float32Array(n * 3 * size * size);
  pixels.forEach((img, b) => {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[((b * 3 + c) * size + y) * size + x] = (img[(y * size + x) * 3 + c] / 255 - mean[c]) / std[c];
  });
  return { images: tensor('float32', [n, 3, size, size], data), labels: tensor('int64', [n], BigInt64Array.from(labels.map(BigInt))) };
}

function loaders(batchSize: number): DataLoaders & { validSet: ReturnType<typeof makeImages> } {
  const train = makeImages(128, 1);
  const validSet = makeImages(40, 2);
  return {
    batchSize,
    classes: 2,
    trainBatches: Math.floor(train.pixels.length / batchSize),
    validSet,
    async *train(epoch) {
      const order = new Random(7).fork(`epoch${epoch}`).permutation(train.pixels.length);
      for (let i = 0; i + batchSize <= order.length; i += batchSize) {
        const idx = order.slice(i, i + batchSize);
        yield toBatch(idx.map((k) => train.pixels[k]), idx.map((k) => train.labels[k]));
      }
    },
    async *valid() {
      for (let i = 0; i < validSet.pixels.length; i += 16) yield toBatch(validSet.pixels.slice(i, i + 16), validSet.labels.slice(i, i + 16));
    },
  };
}

describe('Learner', () => {
  it('learns bars with fit_one_cycle, records every batch, and exports a model that agrees with it', async () => {
    const dls = loaders(16);
    const model = resnet({ ...architectures['resnet-tiny'], classes: 2, seed: 3 }, { channels: 3, height: size, width: size });
    const learn = await Learner.create(model, dls, { threads: 2 });
    const before = await learn.validate();
    const records = await learn.fitOneCycle(3, 1e-2);
    expect(learn.recorder.losses).toHaveLength(3 * 8);
    expect(learn.recorder.lrs[0]).toBeCloseTo(1e-2 / 25, 10);
    expect(records).toHaveLength(3);
    expect(records[2].validLoss).toBeLessThan(before.loss);
    expect(records[2].errorRate).toBeLessThanOrEqual(0.1);

    const exported = exportInference(learn.trainedModel(), { vocab: ['horizontal', 'vertical'], mean, std, height: size, width: size });
    const session = await ort.InferenceSession.create(encodeModel(exported));
    const { pixels, labels } = dls.validSet;
    const images = new Uint8Array(16 * size * size * 3);
    pixels.slice(0, 16).forEach((p, i) => images.set(p, i * p.length));
    const out = await session.run({ image: new ort.Tensor('uint8', images, [16, size, size, 3]) });
    const engineProbs = softmaxRows(await learn.engine.predict(toBatch(pixels.slice(0, 16), labels.slice(0, 16)).images), 2);
    const probs = out.probabilities.data as Float32Array;
    for (let i = 0; i < probs.length; i++) expect(Math.abs(probs[i] - engineProbs[i])).toBeLessThan(1e-5);
    expect(JSON.parse(exported.metadata['paddock.vocab'])).toEqual(['horizontal', 'vertical']);
  }, 120_000);

  it('gives identical weights for identical seeds', async () => {
    const run = async () => {
      const model = resnet({ ...architectures['resnet-tiny'], classes: 2, seed: 5 }, { channels: 3, height: size, width: size });
      const learn = await Learner.create(model, loaders(16), { threads: 1 });
      await learn.fitOneCycle(1, 1e-2);
      return learn.recorder.losses;
    };
    expect(await run()).toEqual(await run());
  }, 120_000);
});
