import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { BatchAugmenter, augTransforms, presize, presizeThreads, type AugmentSpec } from '@paddock/vision';
import { augmentRandom, batchOrder, batches, presizeItems, type Batch, type BatchOptions } from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'paddock-augment-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const rice = join(import.meta.dirname, '../../../../shared/datasets/rice-leaf/train_images');

/** Image i: a w×h gradient whose colours depend on i (so batches can be told apart). */
async function writeImage(i: number, width: number, height: number): Promise<string> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([(x * 9 + i * 40) % 256, (y * 7 + i * 25) % 256, (i * 61) % 256], (y * width + x) * 3);
  const path = join(tmp, `img${i}.${i % 2 ? 'png' : 'jpg'}`);
  await sharp(data, { raw: { width, height, channels: 3 } }).toFile(path);
  return path;
}

describe('presizeItems', () => {
  let paths: string[];
  beforeAll(async () => {
    paths = await Promise.all([[60, 40], [40, 60], [30, 30], [100, 20], [7, 9], [64, 48]].map(([w, h], i) => writeImage(i, w, h)));
  });

  it('presizes every file to the spec size in input order, reporting progress', async () => {
    const progress: [number, number][] = [];
    const out = await presizeItems(paths, { size: [16, 24], method: 'crop' }, 'centre', { onProgress: (d, t) => progress.push([d, t]) });
    expect(out.map((d) => d.length)).toEqual(paths.map(() => 16 * 24 * 3));
    expect(progress.map(([d]) => d)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every(([, t]) => t === 6)).toBe(true);
    // item order = path order: equal to presizing each file alone
    for (const [i, p] of paths.entries()) expect(Buffer.from(out[i]).equals(Buffer.from((await presize(p, { size: [16, 24], method: 'crop' })).data))).toBe(true);
  });

  it('draws random positions per item index, independent of concurrency', async () => {
    const spec = { size: 20, method: 'pad' as const, padMode: 'reflection' as const };
    const one = await presizeItems(paths, spec, new Random(5), { concurrency: 1 });
    const four = await presizeItems(paths, spec, new Random(5), { concurrency: 4 });
    expect(four.map((d) => Buffer.from(d).toString('hex'))).toEqual(one.map((d) => Buffer.from(d).toString('hex')));
    const other = await presizeItems(paths, spec, new Random(6), { concurrency: 2 });
    expect(other.map((d) => Buffer.from(d).toString('hex'))).not.toEqual(one.map((d) => Buffer.from(d).toString('hex')));
  });

  it('presizes the JPEGs on WebAssembly threads and the PNGs on the main thread: the same pixels whatever the thread count', async () => {
    const spec = { size: [16, 24], method: 'crop' } as const;
    const counts = presizeThreads(3).counts;
    const [taken, declined] = [counts.taken, counts.declined];
    const three = await presizeItems(paths, spec, new Random(2), { threads: 3 });
    // Taken: img2.jpg and img4.jpg. Declined: the PNGs, and img0.jpg (60×40, whose crop to 24×16 is
    // the whole image at 2.5×: sharp's shrink-on-load).
    expect([counts.taken - taken, counts.declined - declined]).toEqual([2, 4]);
    const one = await presizeItems(paths, spec, new Random(2), { threads: 1, concurrency: 1 });
    expect(three.map((d) => Buffer.from(d).toString('hex'))).toEqual(one.map((d) => Buffer.from(d).toString('hex')));
  });

  it('names the file it cannot decode', async () => {
    const broken = join(tmp, 'broken.jpg');
    writeFileSync(broken, 'not a jpeg');
    await expect(presizeItems([paths[0], broken, paths[1]], { size: 8 }, 'centre')).rejects.toThrow(/broken\.jpg/);
  });

  it.skipIf(!existsSync(rice))('presizes real rice-leaf photos (JPEG, PNG-in-.jpg, 64×64 and 300×300)', async () => {
    const files = readdirSync(rice).flatMap((label) => readdirSync(join(rice, label)).slice(0, 10).map((f) => join(rice, label, f)));
    const out = await presizeItems(files, { size: 96, method: 'squish' }, 'centre');
    expect(out).toHaveLength(files.length);
    expect(out.every((d) => d.length === 96 * 96 * 3)).toBe(true);
  });
});

describe('batches', () => {
  const side = 8;
  const n = 10;
  const r = new Random(1);
  const images = Array.from({ length: n }, () => Uint8Array.from({ length: side * side * 3 }, () => r.int(256)));
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  let augmenter: BatchAugmenter;
  let spec: AugmentSpec;
  beforeAll(async () => {
    spec = augTransforms({ size: 6, minScale: 0.75 });
    augmenter = await BatchAugmenter.create(spec, { inputHeight: side, inputWidth: side }, 'cpu', { threads: 1 });
  });
  afterAll(async () => augmenter.release());

  const collect = async (o: Partial<BatchOptions>): Promise<Batch[]> => {
    const out: Batch[] = [];
    for await (const b of batches({ images, labels, batchSize: 3, shuffle: true, dropLast: false, epoch: 0, seed: 42, augmenter, augment: true, ...o })) out.push(b);
    return out;
  };

  it('covers every item exactly once per epoch without drop_last, floor(n/bs)·bs with it', async () => {
    const all = await collect({});
    expect(all.map((b) => b.index)).toEqual([0, 1, 2, 3]);
    expect(all.map((b) => b.itemIndices.length)).toEqual([3, 3, 3, 1]);
    expect(all.flatMap((b) => b.itemIndices).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of all) {
      expect(b.images.shape).toEqual([b.itemIndices.length, 3, 6, 6]);
      expect(b.labels.dtype).toBe('int64');
      expect(Array.from(b.labels.data, Number)).toEqual(b.itemIndices.map((i) => i % 4));
    }
    const dropped = await collect({ dropLast: true });
    expect(dropped.map((b) => b.itemIndices.length)).toEqual([3, 3, 3]);
    expect(new Set(dropped.flatMap((b) => b.itemIndices)).size).toBe(9);
  });

  it('is identical for the same seed and epoch, reshuffled for another epoch', async () => {
    const a = await collect({ epoch: 3 });
    const b = await collect({ epoch: 3 });
    expect(b.map((x) => x.itemIndices)).toEqual(a.map((x) => x.itemIndices));
    expect(b.map((x) => Array.from(x.images.data))).toEqual(a.map((x) => Array.from(x.images.data)));
    const c = await collect({ epoch: 4 });
    expect(c.flatMap((x) => x.itemIndices)).not.toEqual(a.flatMap((x) => x.itemIndices));
    const d = await collect({ epoch: 3, seed: 43 });
    expect(d.flatMap((x) => x.itemIndices)).not.toEqual(a.flatMap((x) => x.itemIndices));
    // the shuffle is the documented fork
    expect(a.flatMap((x) => x.itemIndices)).toEqual(new Random(42).fork('epoch3').permutation(n));
  });

  it('draws augmentation from (seed, epoch, batch) only, so shards agree with the whole stream', async () => {
    const whole = await collect({ epoch: 1 });
    const shard0 = await collect({ epoch: 1, shard: { index: 0, count: 2 } });
    const shard1 = await collect({ epoch: 1, shard: { index: 1, count: 2 } });
    expect(shard0.map((b) => b.index)).toEqual([0, 2]);
    expect(shard1.map((b) => b.index)).toEqual([1, 3]);
    for (const b of [...shard0, ...shard1]) expect(Array.from(b.images.data)).toEqual(Array.from(whole[b.index].images.data));
    // and no prefetch gives the same numbers
    const plain = await collect({ epoch: 1, prefetch: 0 });
    expect(plain.map((b) => Array.from(b.images.data))).toEqual(whole.map((b) => Array.from(b.images.data)));
    expect(augmentRandom(42, 1, 2).next()).toBe(augmentRandom(42, 1, 2).next());
  });

  it('keeps validation in order, unaugmented, and equal across epochs', async () => {
    const v0 = await collect({ shuffle: false, augment: false, epoch: 0 });
    const v1 = await collect({ shuffle: false, augment: false, epoch: 7 });
    expect(v0.flatMap((b) => b.itemIndices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(v1.map((b) => Array.from(b.images.data))).toEqual(v0.map((b) => Array.from(b.images.data)));
    const train = await collect({ shuffle: false, epoch: 0 });
    expect(train.map((b) => Array.from(b.images.data))).not.toEqual(v0.map((b) => Array.from(b.images.data)));
  });

  it('rejects mismatched labels and bad batch sizes', async () => {
    await expect(collect({ labels: new Int32Array(3) })).rejects.toThrow(/10 images but 3 labels/);
    expect(() => batchOrder(5, { batchSize: 0, shuffle: false, dropLast: false, epoch: 0, seed: 0 })).toThrow(/batchSize/);
  });
});
