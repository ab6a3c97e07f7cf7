// Where the trainer's batches come from: augmented in this process (presize + BatchAugmenter), or
// streamed from augment workers over gRPC (remoteBatches). Both give the same tensors for the
// same seed: the workers get the presize and aug_transforms recipe with every default resolved,
// so nothing depends on how either side fills in a field left unset.
import { resolve } from 'node:path';
import { batches, presizeItems } from '@paddock/augment';
import { augmentMessage, presizeMessage } from '@paddock/augment/service';
import { Split, Tensor_DataType, type DatasetManifest, type Tensor as TensorMessage } from '@paddock/contracts';
import type { Batch, DataLoaders } from '@paddock/learner';
import type { Device } from '@paddock/runtime';
import { Random, tensor } from '@paddock/tensor';
import { BatchAugmenter, augTransforms, sizeHW, type AugmentOptions, type PresizeSpec } from '@paddock/vision';
import { remoteBatches, type AugmentClient, type RemoteBatchesOptions } from './remote-batches.ts';

/** local: presize and augment here (default). remote: pull every epoch from these augment workers. */
export type BatchSource = { kind: 'local' } | { kind: 'remote'; workers: AugmentClient[]; options?: RemoteBatchesOptions };

export interface LoaderSpec {
  manifest: DatasetManifest;
  presize: PresizeSpec;
  augment: AugmentOptions;
  batchSize: number;
  seed: number;
  device: Device;
  threads?: number;
  /** Decompression-bomb guard for every image presized (default: the vision lib's limit). */
  maxPixels?: number;
  /** Presize cache folder (train and valid alike). */
  presizeCache?: string;
  log: (message: string) => void;
}

export interface Loaders {
  dls: DataLoaders;
  /** The execution provider the local augmenters run on; undefined for remote batches. */
  device?: 'cpu' | 'cuda';
  release(): Promise<void>;
}

export function loadersFor(source: BatchSource, spec: LoaderSpec): Promise<Loaders> {
  return source.kind === 'remote' ? Promise.resolve(remoteLoaders(source, spec)) : localLoaders(spec);
}

function splitItems(manifest: DatasetManifest) {
  return { train: manifest.items.filter((i) => i.split === Split.TRAIN), valid: manifest.items.filter((i) => i.split === Split.VALID) };
}

async function localLoaders(spec: LoaderSpec): Promise<Loaders> {
  const { manifest, log } = spec;
  const items = splitItems(manifest);
  const augmentSpec = augTransforms(spec.augment);
  const [outH, outW] = augmentSpec.size;
  const [preH, preW] = sizeHW(spec.presize.size);
  const pathOf = (p: string) => resolve(manifest.dataDir, p);

  // Presize once: squish is deterministic; crop/pad positions are drawn once per item from the seed.
  const position = (spec.presize.method ?? 'crop') === 'squish' ? 'centre' : new Random(spec.seed).fork('presize');
  let last = 0;
  const report = (what: string) => (done: number, total: number) => {
    if (done === total || done - last >= 200) {
      last = done;
      log(`presize ${what}: ${done}/${total} images`);
    }
  };
  const common = { cache: spec.presizeCache, maxPixels: spec.maxPixels };
  const trainPixels = await presizeItems(items.train.map((i) => pathOf(i.path)), spec.presize, position, { ...common, onProgress: report('train') });
  // Validation is presized straight to the model's size, centred: what model.onnx users do too.
  last = 0;
  const validPixels = await presizeItems(items.valid.map((i) => pathOf(i.path)), { ...spec.presize, size: [outH, outW] }, 'centre', { ...common, onProgress: report('valid') });

  const trainAug = await BatchAugmenter.create(augmentSpec, { inputHeight: preH, inputWidth: preW }, spec.device, { threads: spec.threads, onNotice: log });
  const validAug = await BatchAugmenter.create(augmentSpec, { inputHeight: outH, inputWidth: outW }, trainAug.device, { threads: spec.threads });
  const trainLabels = Int32Array.from(items.train, (i) => i.labelId);
  const validLabels = Int32Array.from(items.valid, (i) => i.labelId);
  const dls: DataLoaders = {
    batchSize: spec.batchSize,
    classes: manifest.vocab.length,
    trainBatches: Math.floor(items.train.length / spec.batchSize),
    train: (epoch) => batches({ images: trainPixels, labels: trainLabels, batchSize: spec.batchSize, shuffle: true, dropLast: true, epoch, seed: spec.seed, augmenter: trainAug, spec: augmentSpec, augment: true }),
    valid: () => batches({ images: validPixels, labels: validLabels, batchSize: spec.batchSize * 2, shuffle: false, dropLast: false, epoch: 0, seed: spec.seed, augmenter: validAug, spec: augmentSpec, augment: false }),
  };
  return { dls, device: trainAug.device, release: async () => void (await Promise.all([trainAug.release(), validAug.release()])) };
}

function remoteLoaders(source: Extract<BatchSource, { kind: 'remote' }>, spec: LoaderSpec): Loaders {
  const { manifest } = spec;
  const items = splitItems(manifest);
  const recipe = { presize: presizeMessage(spec.presize), augment: augmentMessage(augTransforms(spec.augment)) };
  const request = { manifest, seed: spec.seed, ...recipe };
  const pull = async function* (split: Split, epoch: number, batchSize: number): AsyncGenerator<Batch> {
    for await (const b of remoteBatches(source.workers, { ...request, split, epoch, batchSize }, source.options)) yield { images: tensorOf(b.images, 'float32'), labels: tensorOf(b.labels, 'int64') };
  };
  const dls: DataLoaders = {
    batchSize: spec.batchSize,
    classes: manifest.vocab.length,
    trainBatches: Math.floor(items.train.length / spec.batchSize),
    train: (epoch) => pull(Split.TRAIN, epoch, spec.batchSize),
    // The same loader as the local path: twice the batch size, epoch 0, in order.
    valid: () => pull(Split.VALID, 0, spec.batchSize * 2),
  };
  return { dls, release: async () => {} };
}

const DTYPES = { float32: Tensor_DataType.FLOAT32, int64: Tensor_DataType.INT64 } as const;

/** A Tensor message → the shared tensor type (copied: the message's bytes need not be aligned). */
function tensorOf<D extends keyof typeof DTYPES>(t: TensorMessage | undefined, dtype: D) {
  if (!t || t.dtype !== DTYPES[dtype]) throw new Error(`augment worker sent a batch without a ${dtype} tensor`);
  const bytes = new Uint8Array(t.data).buffer; // a copy: grpc-js hands out Buffer views into a pool
  const data = dtype === 'float32' ? new Float32Array(bytes) : new BigInt64Array(bytes);
  return tensor(dtype, t.shape.map(Number), data as never) as ReturnType<typeof tensor<D>>;
}
