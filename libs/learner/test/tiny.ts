// A tiny seeded image task (horizontal vs vertical bar) and loaders for Learner tests.
import { Random, tensor } from '@paddock/tensor';
import { architectures, resnet, type Batch, type DataLoaders } from '../src/index.ts';

export const size = 16;
export const mean = [0.5, 0.5, 0.5];
export const std = [0.25, 0.25, 0.25];

export function makeImages(n: number, seed: number): { pixels: Uint8Array[]; labels: number[] } {
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

export function toBatch(pixels: Uint8Array[], labels: number[]): Batch {
  const n = pixels.length;
  const data = new Float32Array(n * 3 * size * size);
  pixels.forEach((img, b) => {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[((b * 3 + c) * size + y) * size + x] = (img[(y * size + x) * 3 + c] / 255 - mean[c]) / std[c];
  });
  return { images: tensor('float32', [n, 3, size, size], data), labels: tensor('int64', [n], BigInt64Array.from(labels.map(BigInt))) };
}

/** 128 training images in batches of 16 (8 per epoch, order fixed by the epoch), 40 valid. */
export function loaders(batchSize = 16, trainCount = 128): DataLoaders & { validSet: ReturnType<typeof makeImages> } {
  const train = makeImages(trainCount, 1);
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

export const tinyModel = (seed = 3) => resnet({ ...architectures['resnet-tiny'], classes: 2, seed }, { channels: 3, height: size, width: size });

/** Copies of every tensor the engine carries, as plain arrays by name. */
export function stateArrays(state: Map<string, { data: ArrayLike<number> }>): Map<string, Float32Array> {
  return new Map([...state].map(([k, v]) => [k, Float32Array.from(v.data)]));
}
