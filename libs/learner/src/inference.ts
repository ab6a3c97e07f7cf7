// load_learner + get_preds for an exported model.onnx: reads the vocab, normalisation and input
// size from its metadata, presizes files the way validation does (centred) and returns
// probabilities in input order. Evaluation and submission both predict through this.
import * as ort from 'onnxruntime-node';
import { loadModel, encodeModel } from '@paddock/onnx';
import { createSession, type Device } from '@paddock/runtime';
import { presize, type PresizeSpec } from '@paddock/vision';
import { inferenceInput, inferenceOutput } from './export.ts';

export interface PredictOptions {
  batchSize?: number;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface FilePredictions {
  /** N × classes, row-major, in input order; rows of failed files are NaN. */
  probs: Float32Array;
  failed: { index: number; path: string; reason: string }[];
}

export class Predictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly vocab: string[],
    readonly height: number,
    readonly width: number,
    readonly presizeSpec: Omit<PresizeSpec, 'size'>,
    readonly metadata: Record<string, string>,
  ) {}

  static async load(path: string, options: { device?: Device; threads?: number } = {}): Promise<Predictor> {
    const model = loadModel(path);
    const meta = model.metadata;
    if (!meta['paddock.vocab'] || !meta['paddock.input']) {
      throw new Error(`${path}: not a Paddock inference model (metadata paddock.vocab / paddock.input missing); export one with paddock run or paddock train`);
    }
    const input = JSON.parse(meta['paddock.input']);
    const presizeMeta = meta['paddock.presize'] ? JSON.parse(meta['paddock.presize']) : {};
    const { session } = await createSession(encodeModel(model), options);
    return new Predictor(session, JSON.parse(meta['paddock.vocab']), input.height, input.width, { method: presizeMeta.method ?? 'squish', padMode: presizeMeta.padMode ?? 'reflection' }, meta);
  }

  get classes(): number {
    return this.vocab.length;
  }

  /** Probabilities for images already at the model's input size (uint8 HWC each). */
  async predict(images: Uint8Array[]): Promise<Float32Array> {
    const pixels = this.height * this.width * 3;
    const batch = new Uint8Array(images.length * pixels);
    images.forEach((img, i) => batch.set(img, i * pixels));
    const out = await this.session.run({ [inferenceInput]: new ort.Tensor('uint8', batch, [images.length, this.height, this.width, 3]) });
    return out[inferenceOutput].data as Float32Array;
  }

  async predictFiles(paths: string[], options: PredictOptions = {}): Promise<FilePredictions> {
    const batchSize = options.batchSize ?? 64;
    const probs = new Float32Array(paths.length * this.classes).fill(NaN);
    const failed: FilePredictions['failed'] = [];
    for (let start = 0; start < paths.length; start += batchSize) {
      const chunk = paths.slice(start, start + batchSize);
      const decoded = await Promise.all(
        chunk.map(async (path, k) => {
          try {
            return (await presize(path, { ...this.presizeSpec, size: [this.height, this.width] }, 'centre')).data;
          } catch (error) {
            failed.push({ index: start + k, path, reason: (error as Error).message });
            return undefined;
          }
        }),
      );
      const ok = decoded.flatMap((d, k) => (d ? [{ d, k }] : []));
      if (ok.length) {
        const p = await this.predict(ok.map((o) => o.d));
        ok.forEach(({ k }, j) => probs.set(p.subarray(j * this.classes, (j + 1) * this.classes), (start + k) * this.classes));
      }
      options.onProgress?.(Math.min(paths.length, start + batchSize), paths.length);
    }
    return { probs, failed };
  }
}
