// The batch stream of one epoch: fastai DataLoader order (shuffle per epoch, drop_last on train),
// per-batch augmentation parameters drawn from a seeded generator, and the augmentation graph run
// one batch ahead of the consumer. Deterministic in (seed, epoch, batch index).
import { Random, int64, type Tensor } from '@paddock/tensor';
import { drawAugmentParams, validParams, type AugmentSpec, type BatchAugmenter } from '@paddock/vision';

export interface BatchOrderOptions {
  batchSize: number;
  /** fastai: True on train, False on valid. */
  shuffle: boolean;
  /** fastai: True on train (a last, smaller batch would upset BatchNorm), False on valid. */
  dropLast: boolean;
  epoch: number;
  seed: number;
}

export interface BatchOptions extends BatchOrderOptions {
  /** Presized images, HWC uint8 at the augmenter's input size. */
  images: readonly Uint8Array[];
  /** Class id per image. */
  labels: Int32Array;
  augmenter: BatchAugmenter;
  /** true: random aug_transforms parameters (train); false: validation geometry, no lighting. */
  augment: boolean;
  /** The recipe to draw from; default: the augmenter's own spec. */
  spec?: AugmentSpec;
  /** Serve only batches b with b % count === index (the augment service's shards). */
  shard?: { index: number; count: number };
  /** Batches augmented ahead of the consumer (default 1). */
  prefetch?: number;
}

export interface Batch {
  /** Position of the batch in the epoch (before sharding). */
  index: number;
  /** float32 [n, 3, H, W], normalised. */
  images: Tensor<'float32'>;
  /** int64 [n]. */
  labels: Tensor<'int64'>;
  /** Dataset indices of the items, in batch order. */
  itemIndices: number[];
}

/** The item indices of every batch of an epoch. Shuffle: `new Random(seed).fork('epoch' + epoch)`. */
export function batchOrder(n: number, options: BatchOrderOptions): number[][] {
  const { batchSize, shuffle, dropLast, epoch, seed } = options;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = shuffle ? new Random(seed).fork('epoch' + epoch).permutation(n) : Array.from({ length: n }, (_, i) => i);
  const count = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  return Array.from({ length: count }, (_, b) => order.slice(b * batchSize, (b + 1) * batchSize));
}

/** The random generator batch `index` of `epoch` draws its augmentation parameters from. */
export function augmentRandom(seed: number, epoch: number, index: number): Random {
  return new Random(seed).fork('augment' + epoch).fork(index);
}

/** Yield the epoch's batches in index order (only this shard's, when sharded). */
export async function* batches(options: BatchOptions): AsyncGenerator<Batch> {
  const { images, labels, augmenter, augment } = options;
  if (labels.length !== images.length) throw new RangeError(`batches: ${images.length} images but ${labels.length} labels`);
  const spec = options.spec ?? augmenter.spec;
  const input = augmenter.inputSize;
  const shard = options.shard;
  if (shard && !(shard.count > 0 && shard.index >= 0 && shard.index < shard.count)) throw new RangeError(`batches: shard ${shard.index} of ${shard.count} does not exist`);
  const mine = batchOrder(images.length, options)
    .map((itemIndices, index) => ({ itemIndices, index }))
    .filter((b) => !shard || b.index % shard.count === shard.index);

  const make = async ({ itemIndices, index }: { itemIndices: number[]; index: number }): Promise<Batch> => {
    const n = itemIndices.length;
    const params = augment ? drawAugmentParams(spec, n, augmentRandom(options.seed, options.epoch, index), input) : validParams(n, spec, input);
    const out = await augmenter.run(itemIndices.map((i) => images[i]), params);
    return { index, images: out, labels: int64([n], itemIndices.map((i) => labels[i])), itemIndices };
  };

  // Runs are chained (one graph run at a time: they would only compete for the same cores or GPU)
  // but start before the consumer asks, so augmentation overlaps the training step.
  const ahead = Math.max(0, Math.floor(options.prefetch ?? 1));
  const pending: Promise<Batch>[] = [];
  let last: Promise<unknown> = Promise.resolve();
  let next = 0;
  const launch = () => {
    const b = mine[next++];
    const p = last.catch(() => {}).then(() => make(b));
    p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being "unhandled"
    pending.push(p);
    last = p;
  };
  while (next < mine.length || pending.length) {
    // the batch to hand out now, plus `ahead` more computing while the consumer works on it
    while (next < mine.length && pending.length < 1 + ahead) launch();
    yield await pending.shift()!;
  }
}
