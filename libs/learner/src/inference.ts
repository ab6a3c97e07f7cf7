// load_learner + get_preds for an exported model.onnx: reads the vocab, normalisation and input
// size from its metadata, presizes files the way validation does (centred) and returns
// probabilities in input order. Evaluation and submission both predict through this. For TTA it
// also runs the training augmentation (metadata paddock.augment / paddock.presize) into a second
// session of the same network that takes the normalised float NCHW batch the augmenter makes.
import * as ort from 'onnxruntime-node';
import { loadModel, encodeModel, type Graph, type Model } from '@paddock/onnx';
import { createSession, type Device, type Session } from '@paddock/runtime';
import { Random } from '@paddock/tensor';
import { BatchAugmenter, decodeImage, drawImage, paramsFromDraws, presize, sizeHW, type AugmentSpec, type PresizeSpec, type RgbImage } from '@paddock/vision';
import { inferenceInput, inferenceOutput } from './export.ts';

export interface PredictOptions {
  batchSize?: number;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface AugmentedPredictOptions extends PredictOptions {
  /** Number of augmented passes (fastai's tta n, default 4). */
  n?: number;
  /** Seed of the augmentation draws; pass k, image i always gets the same draw. Default 0. */
  seed?: number;
}

export interface FilePredictions {
  /** N × classes, row-major, in input order; rows of failed files are NaN. */
  probs: Float32Array;
  failed: { index: number; path: string; reason: string }[];
}

export interface AugmentedPredictions {
  /** One N × classes array per augmented pass, in input order; rows of failed files are NaN. */
  runs: Float32Array[];
  failed: { index: number; path: string; reason: string }[];
}

/**
 * The network of an exported inference model without its uint8 → normalised-float prologue:
 * the nodes export.ts adds under the "pre/" prefix are removed and the value they produced (the
 * trained network's own input) becomes a float32 [N, 3, H, W] graph input. Weights are shared
 * by reference, so this costs no copy; the result feeds an augmenter's output straight in.
 */
export function floatInputModel(model: Model): { model: Model; input: string } {
  const g = model.graph;
  const isPre = (name: string) => name.startsWith('pre/');
  const pre = g.nodes.filter((n) => isPre(n.name));
  const rest = g.nodes.filter((n) => !isPre(n.name));
  const made = new Set(pre.flatMap((n) => n.outputs));
  const crossing = new Set(rest.flatMap((n) => n.inputs).filter((v) => made.has(v)));
  if (pre.length === 0 || crossing.size !== 1) {
    throw new Error(`floatInputModel: cannot find the normalisation prologue of this model (pre/ nodes: ${pre.length}, values crossing into the network: ${crossing.size}); re-export it with a current paddock`);
  }
  const input = [...crossing][0];
  const { height, width } = JSON.parse(model.metadata['paddock.input']);
  const used = new Set(rest.flatMap((n) => n.inputs));
  const graph: Graph = {
    ...g,
    name: `${g.name}_float`,
    nodes: rest,
    inputs: [{ name: input, dtype: 'float32', shape: ['N', 3, height, width] }],
    initializers: new Map([...g.initializers].filter(([k]) => used.has(k))),
  };
  return { model: { ...model, graph }, input };
}

/**
 * Blend test-time-augmentation predictions the way fastai's Learner.tta does.
 *
 * Default: torch.lerp(mean(aug), plain, beta) = (1 − beta)·mean(aug) + beta·plain, i.e.
 * 0.75·mean(aug) + 0.25·plain for beta = 0.25.
 *
 * useMax: fastai takes `aug.max(0)` over the augmented runs and then the elementwise max of that
 * and the plain prediction — so the result is the max over all n + 1 predictions, and beta is
 * ignored. We follow fastai's code here rather than "max of plain and mean(aug)", because the
 * point is to reproduce fastai's numbers; the two differ whenever one augmented run peaks.
 */
export function blendTta(plain: Float32Array, augmented: readonly Float32Array[], beta = 0.25, useMax = false): Float32Array {
  if (augmented.length === 0) throw new RangeError('blendTta: no augmented predictions (n must be ≥ 1)');
  augmented.forEach((a, k) => {
    if (a.length !== plain.length) throw new RangeError(`blendTta: augmented run ${k} has ${a.length} values, plain has ${plain.length}`);
  });
  const out = new Float32Array(plain.length);
  for (let i = 0; i < plain.length; i++) {
    if (useMax) {
      let m = plain[i];
      for (const a of augmented) m = Math.max(m, a[i]);
      out[i] = m;
    } else {
      let sum = 0;
      for (const a of augmented) sum += a[i];
      const mean = sum / augmented.length;
      out[i] = mean + beta * (plain[i] - mean);
    }
  }
  return out;
}

export class Predictor {
  private float?: Promise<{ session: Session; input: string }>;
  private augmenter?: Promise<BatchAugmenter>;

  private constructor(
    private readonly session: Session,
    private readonly model: Model,
    readonly vocab: string[],
    readonly height: number,
    readonly width: number,
    readonly presizeSpec: Omit<PresizeSpec, 'size'>,
    readonly metadata: Record<string, string>,
    private readonly options: { device?: Device; threads?: number },
  ) {}

  static async load(path: string, options: { device?: Device; threads?: number } = {}): Promise<Predictor> {
    const model = loadModel(path);
    const meta = model.metadata;
    if (!meta['paddock.vocab'] || !meta['paddock.input']) {
      throw new Error(`${path}: not a Paddock inference model (metadata paddock.vocab / paddock.input missing); export one with paddock run or paddock train`);
    }
    const input = JSON.parse(meta['paddock.input']);
    const presizeMeta = meta['paddock.presize'] ? JSON.parse(meta['paddock.presize']) : {};
    const session = await createSession(encodeModel(model), options);
    // Later sessions (TTA) run where the first one settled, when 'auto' was asked for.
    return new Predictor(session, model, JSON.parse(meta['paddock.vocab']), input.height, input.width, { method: presizeMeta.method ?? 'squish', padMode: presizeMeta.padMode ?? 'reflection' }, meta, { ...options, device: session.device });
  }

  get classes(): number {
    return this.vocab.length;
  }

  /** The execution provider the model runs on. */
  get device(): 'cpu' | 'cuda' {
    return this.session.device;
  }

  /** The training augmentation stored in the model (paddock.augment), or undefined. */
  get augmentSpec(): AugmentSpec | undefined {
    const a = this.metadata['paddock.augment'];
    return a ? (JSON.parse(a) as AugmentSpec) : undefined;
  }

  /** The presize size [height, width] the training augmentation read (paddock.presize.size). */
  get presizeSize(): [number, number] {
    const p = this.metadata['paddock.presize'];
    const size = p ? JSON.parse(p).size : undefined;
    return size ? sizeHW(size) : [this.height, this.width];
  }

  /** Probabilities for images already at the model's input size (uint8 HWC each). */
  async predict(images: Uint8Array[]): Promise<Float32Array> {
    const pixels = this.height * this.width * 3;
    const batch = new Uint8Array(images.length * pixels);
    images.forEach((img, i) => batch.set(img, i * pixels));
    const out = await this.session.session.run({ [inferenceInput]: new ort.Tensor('uint8', batch, [images.length, this.height, this.width, 3]) });
    return out[inferenceOutput].data as Float32Array;
  }

  /** Probabilities for a normalised float32 NCHW batch at the model size (an augmenter's output). */
  async predictNormalized(batch: Float32Array, count: number): Promise<Float32Array> {
    if (batch.length !== count * 3 * this.height * this.width) {
      throw new RangeError(`predictNormalized: ${batch.length} values are not ${count}×3×${this.height}×${this.width}`);
    }
    this.float ??= (async () => {
      const { model, input } = floatInputModel(this.model);
      return { session: await createSession(encodeModel(model), this.options), input };
    })();
    const { session, input } = await this.float;
    const out = await session.session.run({ [input]: new ort.Tensor('float32', batch, [count, 3, this.height, this.width]) });
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
    failed.sort((a, b) => a.index - b.index);
    return { probs, failed };
  }

  /**
   * The n augmented passes of fastai's tta: each file is decoded once, then per pass presized at
   * the training presize size (a random window for crop/pad, as the training item transform
   * draws) and augmented with the training batch transforms, and predicted through the float
   * session. Draws come from Random(seed).fork(`tta/${pass}/${index}`), so they depend on neither
   * the batch size nor the order batches finish in.
   */
  async predictFilesAugmented(paths: string[], options: AugmentedPredictOptions = {}): Promise<AugmentedPredictions> {
    const spec = this.augmentSpec;
    if (!spec) throw new Error('TTA: this model.onnx has no paddock.augment metadata (the training augmentation); export it with paddock run or paddock train, or predict without TTA');
    const n = options.n ?? 4;
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`TTA: n must be a positive integer, got ${n}`);
    const batchSize = options.batchSize ?? 64;
    const [preH, preW] = this.presizeSize;
    this.augmenter ??= BatchAugmenter.create(spec, { inputHeight: preH, inputWidth: preW }, this.device, { threads: this.options.threads });
    const augmenter = await this.augmenter;
    const root = new Random(options.seed ?? 0);
    const runs = Array.from({ length: n }, () => new Float32Array(paths.length * this.classes).fill(NaN));
    const failed: AugmentedPredictions['failed'] = [];
    const presizeSpec: PresizeSpec = { ...this.presizeSpec, size: [preH, preW] };
    const random = (pass: number, index: number, what: string) => root.fork(`tta/${pass}/${index}/${what}`);
    for (let start = 0; start < paths.length; start += batchSize) {
      const chunk = paths.slice(start, start + batchSize);
      const images = await Promise.all(
        chunk.map(async (path, k): Promise<RgbImage | undefined> => {
          try {
            return await decodeImage(path);
          } catch (error) {
            failed.push({ index: start + k, path, reason: (error as Error).message });
            return undefined;
          }
        }),
      );
      const ok = images.flatMap((image, k) => (image ? [{ image, index: start + k }] : []));
      if (ok.length) {
        for (let pass = 0; pass < n; pass++) {
          const position = (this.presizeSpec.method ?? 'crop') === 'squish' ? 'centre' : undefined;
          const sized = await Promise.all(ok.map(({ image, index }) => presize(image, presizeSpec, position ?? random(pass, index, 'presize'))));
          const size = { height: preH, width: preW };
          const params = paramsFromDraws(ok.map(({ index }) => drawImage(spec, size, random(pass, index, 'augment'))), size, spec.alignCorners);
          const batch = await augmenter.run(sized.map((s) => s.data), params);
          const p = await this.predictNormalized(batch.data, ok.length);
          ok.forEach(({ index }, j) => runs[pass].set(p.subarray(j * this.classes, (j + 1) * this.classes), index * this.classes));
        }
      }
      options.onProgress?.(Math.min(paths.length, start + batchSize), paths.length);
    }
    failed.sort((a, b) => a.index - b.index);
    return { runs, failed };
  }

  async release(): Promise<void> {
    await this.session.session.release();
    if (this.float) await (await this.float).session.session.release();
    if (this.augmenter) await (await this.augmenter).release();
  }
}
