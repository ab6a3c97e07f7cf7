// The augment stage as a gRPC service: StreamBatches presizes a split of the manifest (cached per
// manifest + presize recipe, so every epoch after the first only augments) and streams the
// requested shard's batches, exactly as `batches` yields them in process.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { AugmentService, DatasetManifestSchema, Split, Tensor_DataType, type AugmentSpec as AugmentSpecMessage, type AugmentSpecSchema, type BatchSchema, type DatasetManifest, type PresizeSpec as PresizeSpecMessage, type PresizeSpecSchema, type StreamBatchesRequest, type TensorSchema } from '@paddock/contracts';
import { RpcError, register, status, type Registration } from '@paddock/rpc';
import type { Device } from '@paddock/runtime';
import { Random, type Tensor } from '@paddock/tensor';
import { BatchAugmenter, augTransforms, sizeHW, type AugmentOptions, type AugmentSpec, type PresizeSpec } from '@paddock/vision';
import { batchOrder, batches } from './batches.ts';
import { presizeItems } from './presize-items.ts';

/** Proto PresizeSpec → the vision lib's (0-valued fields take the recipe defaults). */
export function presizeSpecFrom(p: PresizeSpecMessage | undefined): PresizeSpec {
  if (!p || !p.height || !p.width) throw new RangeError('presize.height and presize.width are required (pixels)');
  return { size: [p.height, p.width], method: (p.method || 'squish') as PresizeSpec['method'], padMode: (p.padMode || 'reflection') as PresizeSpec['padMode'] };
}

// The aug_transforms fields the AugmentSpec message carries one to one, under the same names.
const AUGMENT_FIELDS = ['minScale', 'doFlip', 'flipVert', 'maxRotate', 'minZoom', 'maxZoom', 'maxWarp', 'pAffine', 'maxLighting', 'pLighting'] as const;
type AugmentFields = Pick<AugmentSpec, (typeof AUGMENT_FIELDS)[number]>;
const augmentFields = (from: AugmentFields): AugmentFields => Object.fromEntries(AUGMENT_FIELDS.map((f) => [f, from[f]])) as unknown as AugmentFields;

/** Proto AugmentSpec → aug_transforms options. Every field is sent explicitly by the producer. */
export function augmentOptionsFrom(a: AugmentSpecMessage | undefined): AugmentOptions {
  if (!a || !a.height || !a.width) throw new RangeError('augment.height and augment.width are required (pixels)');
  const triple = (v: number[], name: string) => {
    if (v.length === 0) return undefined;
    if (v.length !== 3) throw new RangeError(`augment.${name} needs 3 values (RGB), got ${v.length}`);
    return [v[0], v[1], v[2]] as const;
  };
  return {
    size: [a.height, a.width],
    ...augmentFields(a),
    mean: triple(a.mean, 'mean'),
    std: triple(a.std, 'std'),
  };
}

/** The presize recipe the other way: what a trainer sends, every default spelled out. */
export function presizeMessage(p: PresizeSpec): MessageInitShape<typeof PresizeSpecSchema> {
  const [height, width] = sizeHW(p.size);
  return { height, width, method: p.method ?? 'crop', padMode: p.padMode ?? 'reflection' };
}

/** Resolved aug_transforms the other way: what a trainer sends; refuses what the message cannot carry. */
export function augmentMessage(a: AugmentSpec): MessageInitShape<typeof AugmentSpecSchema> {
  if (a.padMode !== 'reflection' || a.alignCorners !== true) {
    throw new RangeError(`augment.padMode ${a.padMode} / alignCorners ${a.alignCorners}: augment workers only run the defaults (reflection, aligned corners); train locally or drop these fields`);
  }
  const [height, width] = a.size;
  return {
    height,
    width,
    ...augmentFields(a),
    mean: [...a.mean],
    std: [...a.std],
  };
}

export function tensorMessage(t: Tensor): MessageInitShape<typeof TensorSchema> {
  const dtype = t.dtype === 'float32' ? Tensor_DataType.FLOAT32 : t.dtype === 'int64' ? Tensor_DataType.INT64 : t.dtype === 'uint8' ? Tensor_DataType.UINT8 : Tensor_DataType.UNSPECIFIED;
  const data = t.data as unknown as ArrayBufferView;
  return { dtype, shape: t.shape.map((d) => BigInt(d)), data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

interface Prepared {
  items: DatasetManifest['items'];
  images: Uint8Array[];
  labels: Int32Array;
  augmenter: BatchAugmenter;
  spec: ReturnType<typeof augTransforms>;
  train: boolean;
}

export interface AugmentServiceOptions {
  device?: Device;
  threads?: number;
  /** Prepared splits kept in memory (each holds the presized images). */
  cacheSize?: number;
  /** Presize cache folder on disk (default env PADDOCK_PRESIZE_CACHE, as the trainer's). */
  presizeCache?: string;
}

/** The StreamBatches handler's work, usable without gRPC (and by tests). */
export class AugmentWorker {
  private readonly cache = new Map<string, Promise<Prepared>>();
  constructor(private readonly options: AugmentServiceOptions = {}) {}

  private prepare(request: StreamBatchesRequest): Promise<Prepared> {
    const manifest = request.manifest;
    if (!manifest) throw new RangeError('manifest is required');
    const split = request.split || Split.TRAIN;
    if (split === Split.TEST) throw new RangeError('split TEST has no labels to batch; use TRAIN or VALID');
    const key = createHash('sha256')
      .update(toBinary(DatasetManifestSchema, create(DatasetManifestSchema, { ...manifest, audit: undefined })))
      .update(JSON.stringify([split, request.seed, request.presize, request.augment]))
      .digest('hex');
    let prepared = this.cache.get(key);
    if (!prepared) {
      prepared = this.build(manifest, split, request);
      prepared.catch(() => this.cache.delete(key));
      this.cache.set(key, prepared);
      while (this.cache.size > (this.options.cacheSize ?? 4)) {
        const oldest = this.cache.keys().next().value as string;
        const p = this.cache.get(oldest)!;
        this.cache.delete(oldest);
        void p.then((x) => x.augmenter.release()).catch(() => {});
      }
    }
    return prepared;
  }

  // Mirrors apps/training's in-process loaders (batch-source.ts): train items presized with the
  // seed's positions, validation presized straight to the model size, centred.
  private async build(manifest: DatasetManifest, split: Split, request: StreamBatchesRequest): Promise<Prepared> {
    const presize = presizeSpecFrom(request.presize);
    const spec = augTransforms(augmentOptionsFrom(request.augment));
    const train = split === Split.TRAIN;
    const items = manifest.items.filter((i) => i.split === split);
    const paths = items.map((i) => resolve(manifest.dataDir, i.path));
    const [outH, outW] = spec.size;
    const [preH, preW] = sizeHW(presize.size);
    const position = !train || (presize.method ?? 'crop') === 'squish' ? 'centre' : new Random(request.seed).fork('presize');
    const images = await presizeItems(paths, train ? presize : { ...presize, size: [outH, outW] }, position, { cache: this.options.presizeCache ?? process.env.PADDOCK_PRESIZE_CACHE });
    const sizes = train ? { inputHeight: preH, inputWidth: preW } : { inputHeight: outH, inputWidth: outW };
    const augmenter = await BatchAugmenter.create(spec, sizes, this.options.device ?? 'cpu', { threads: this.options.threads });
    return { items, images, labels: Int32Array.from(items, (i) => i.labelId), augmenter, spec, train };
  }

  async *stream(request: StreamBatchesRequest, signal?: AbortSignal): AsyncGenerator<MessageInitShape<typeof BatchSchema>> {
    if (!(request.batchSize > 0)) throw new RangeError('batch_size must be a positive integer');
    const count = request.shardCount || 1;
    if (request.shardIndex >= count) throw new RangeError(`shard_index ${request.shardIndex} is not below shard_count ${count}`);
    const p = await this.prepare(request);
    const common = { images: p.images, labels: p.labels, batchSize: request.batchSize, shuffle: p.train, dropLast: p.train, epoch: request.epoch, seed: request.seed, augmenter: p.augmenter, spec: p.spec, augment: p.train };
    // Explicit batch indices (a trainer re-requesting a lost worker's batches): each one is the
    // single batch of shard b of B, so it is computed exactly as in the full epoch.
    const total = batchOrder(p.images.length, common).length;
    const wanted = request.batchIndices.length ? request.batchIndices : undefined;
    const streams = wanted ? wanted.map((b) => ({ index: b, count: total })) : [{ index: request.shardIndex, count }];
    for (const shard of streams) {
      if (shard.index >= shard.count) throw new RpcError(status.OUT_OF_RANGE, `batch ${shard.index} does not exist (the epoch has ${total})`);
      for await (const b of batches({ ...common, shard })) {
        if (signal?.aborted) return;
        yield {
          epoch: request.epoch,
          index: b.index,
          images: tensorMessage(b.images),
          labels: tensorMessage(b.labels),
          itemPaths: b.itemIndices.map((i) => p.items[i].path),
          itemIndices: b.itemIndices,
        };
      }
    }
  }

  async close(): Promise<void> {
    for (const p of this.cache.values()) await p.then((x) => x.augmenter.release()).catch(() => {});
    this.cache.clear();
  }
}

export function augmentService(worker: AugmentWorker): Registration {
  return register(AugmentService, {
    async *streamBatches(request, ctx) {
      for await (const batch of worker.stream(request, ctx.signal)) yield { batch };
    },
  });
}
