// BatchAugmenter: the augmentation graphs behind one onnxruntime session each (created once, reused
// for every batch), fed with presized uint8 images and per-image parameters drawn in JS.
import { tensor, type Tensor } from '@paddock/tensor';
import { encodeModel } from '@paddock/onnx';
import { createSession, fromOrt, toOrt, type Device, type Session } from '@paddock/runtime';
import type { AugmentParams, AugmentSpec } from './augment-params.ts';
import { buildAugmentGraph, buildNormalizeGraph, type Sampler } from './augment-graph.ts';

export interface AugmenterSizes {
  /** The presize size every image of a batch has. */
  inputHeight: number;
  inputWidth: number;
}

export interface AugmenterOptions {
  /** ORT intra-op threads (default: every core). */
  threads?: number;
  /** The resampling formulation (benchmarks compare them; default the faster, DEFAULT_SAMPLER). */
  sampler?: Sampler;
  onNotice?: (message: string) => void;
}

function isIdentity(theta: Float32Array): boolean {
  const eye = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let i = 0; i < theta.length; i++) if (theta[i] !== eye[i % 9]) return false;
  return true;
}

export class BatchAugmenter {
  /** Validation sessions are built on first use: many augmenters only ever train or only validate. */
  private readonly validSessions = new Map<'normalize' | 'resample', Promise<Session>>();

  private constructor(
    readonly spec: AugmentSpec,
    readonly sizes: AugmenterSizes,
    private readonly train: Session,
    private readonly options: AugmenterOptions & { device: Device },
  ) {}

  static async create(spec: AugmentSpec, sizes: AugmenterSizes, device: Device = 'cpu', options: AugmenterOptions = {}): Promise<BatchAugmenter> {
    const model = buildAugmentGraph(spec, sizes, { sampler: options.sampler });
    const train = await createSession(encodeModel(model), { device, threads: options.threads, onNotice: options.onNotice });
    // Once 'auto' has settled on a provider, the validation sessions use the same one.
    return new BatchAugmenter(spec, sizes, train, { ...options, device: train.device });
  }

  /** The execution provider the sessions really run on. */
  get device(): 'cpu' | 'cuda' {
    return this.train.device;
  }

  get inputSize(): { height: number; width: number } {
    return { height: this.sizes.inputHeight, width: this.sizes.inputWidth };
  }

  private validSession(kind: 'normalize' | 'resample'): Promise<Session> {
    let s = this.validSessions.get(kind);
    if (!s) {
      const model = kind === 'normalize' ? buildNormalizeGraph(this.spec) : buildAugmentGraph(this.spec, this.sizes, { lighting: false, sampler: this.options.sampler });
      s = createSession(encodeModel(model), { device: this.options.device, threads: this.options.threads, onNotice: this.options.onNotice });
      this.validSessions.set(kind, s);
    }
    return s;
  }

  /**
   * Augment (or, for validation params, just resize/normalise) one batch. `images` are HWC uint8
   * at the presize size. Returns float32 [N, 3, Hout, Wout], normalised.
   */
  async run(images: readonly Uint8Array[], params: AugmentParams): Promise<Tensor<'float32'>> {
    const n = images.length;
    if (n === 0) throw new RangeError('BatchAugmenter.run: empty batch');
    if (params.count !== n) throw new RangeError(`BatchAugmenter.run: ${n} images but parameters for ${params.count}`);
    const { inputHeight: h, inputWidth: w } = this.sizes;
    const bytes = h * w * 3;
    const batch = new Uint8Array(n * bytes);
    images.forEach((img, i) => {
      if (img.length !== bytes) throw new RangeError(`BatchAugmenter.run: image ${i} has ${img.length} bytes, expected ${h}×${w}×3 = ${bytes} (presize every image to the same size)`);
      batch.set(img, i * bytes);
    });
    const feeds: Record<string, ReturnType<typeof toOrt>> = { images: toOrt(tensor('uint8', [n, h, w, 3], batch)) };
    let session: Session;
    if (!params.valid) {
      session = this.train;
      feeds.theta = toOrt(tensor('float32', [n, 3, 3], params.theta));
      feeds.contrast = toOrt(tensor('float32', [n, 1, 1, 1], params.contrast));
      feeds.brightness = toOrt(tensor('float32', [n, 1, 1, 1], params.brightness));
    } else if (h === this.spec.size[0] && w === this.spec.size[1] && isIdentity(params.theta)) {
      session = await this.validSession('normalize');
    } else {
      session = await this.validSession('resample');
      feeds.theta = toOrt(tensor('float32', [n, 3, 3], params.theta));
    }
    return fromOrt((await session.session.run(feeds)).batch) as Tensor<'float32'>;
  }

  async release(): Promise<void> {
    await this.train.session.release();
    for (const s of this.validSessions.values()) await (await s).session.release();
  }
}
