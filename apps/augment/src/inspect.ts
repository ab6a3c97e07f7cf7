// Looking at the data path: augmentedSamples (the pixels behind `paddock show-batch`) and
// walkItem (one file through every step, for `paddock summary`). Both run the same functions
// training runs — presize, the augmentation graph — so what they show is what the model sees.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { Random } from '@paddock/tensor';
import { BatchAugmenter, augTransforms, decodeImage, drawAugmentParams, presize, sizeHW, validParams, type AugmentOptions, type AugmentSpec, type ImageDraw, type PresizeSpec } from '@paddock/vision';
import { presizeItems } from './presize-items.ts';

export interface SampleRequest {
  /** Files and their labels. */
  items: readonly { path: string; label: string }[];
  presize: PresizeSpec;
  augment: AugmentOptions;
  /** How many pictures (default 9). */
  count?: number;
  /** One item (the first) under `count` different augmentations (fastai show_batch(unique=True)). */
  unique?: boolean;
  seed?: number;
  threads?: number;
}

export interface Sample {
  /** 8-bit RGB HWC, de-normalised from the augmented batch. */
  rgb: Uint8Array;
  width: number;
  height: number;
  label: string;
  path: string;
  draw: ImageDraw;
}

/** Augmented training images as the model gets them, turned back into 8-bit pictures. */
export async function augmentedSamples(request: SampleRequest): Promise<Sample[]> {
  const seed = request.seed ?? 42;
  const count = Math.max(1, Math.floor(request.count ?? 9));
  if (request.items.length === 0) throw new RangeError('augmentedSamples: no items');
  const random = new Random(seed);
  const chosen = request.unique
    ? Array.from({ length: count }, () => request.items[0])
    : random.fork('show').permutation(request.items.length).slice(0, count).map((i) => request.items[i]);
  const [h, w] = sizeHW(request.presize.size);
  const position = (request.presize.method ?? 'crop') === 'squish' ? 'centre' : random.fork('presize');
  const pixels = await presizeItems(chosen.map((c) => c.path), request.presize, position);
  const spec = augTransforms(request.augment);
  const augmenter = await BatchAugmenter.create(spec, { inputHeight: h, inputWidth: w }, 'cpu', { threads: request.threads });
  try {
    const params = drawAugmentParams(spec, chosen.length, random.fork('augment'), { height: h, width: w });
    const out = await augmenter.run(pixels, params);
    const [, , H, W] = out.shape;
    return chosen.map((c, i) => ({ rgb: denormalise(out.data, i, H, W, spec), width: W, height: H, label: c.label, path: c.path, draw: params.draws[i] }));
  } finally {
    await augmenter.release();
  }
}

/** float32 NCHW normalised → uint8 HWC of image n. */
export function denormalise(data: Float32Array, n: number, height: number, width: number, spec: Pick<AugmentSpec, 'mean' | 'std'>): Uint8Array {
  const plane = height * width;
  const out = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const base = (n * 3 + c) * plane;
    for (let p = 0; p < plane; p++) out[p * 3 + c] = Math.max(0, Math.min(255, Math.round((data[base + p] * spec.std[c] + spec.mean[c]) * 255)));
  }
  return out;
}

export interface Step {
  step: 'read' | 'decode' | 'presize' | 'augment' | 'validation';
  ok: boolean;
  /** dtype and shape of the step's output, with the layout. */
  dtype?: string;
  shape?: number[];
  range?: [number, number];
  mean?: number;
  /** What else is worth knowing, or why the step failed. */
  detail: string;
}

function stats(values: ArrayLike<number>): { range: [number, number]; mean: number } {
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    sum += v;
  }
  return { range: [lo, hi], mean: sum / values.length };
}

/**
 * One file through every step training takes — read, decode, presize, augment (train draw), and
 * the validation transform — recording each output's dtype, shape and value range. Stops at the
 * first step that fails, which is then the last entry (ok: false, detail = the reason).
 */
export async function walkItem(path: string, presizeSpec: PresizeSpec, augment: AugmentOptions, options: { seed?: number; maxPixels?: number; threads?: number } = {}): Promise<Step[]> {
  const steps: Step[] = [];
  const fail = (step: Step['step'], e: unknown) => {
    steps.push({ step, ok: false, detail: e instanceof Error ? e.message.split('\n')[0] : String(e) });
    return steps;
  };
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return fail('read', e);
  }
  steps.push({ step: 'read', ok: true, dtype: 'bytes', shape: [bytes.length], detail: `sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}…` });
  if (bytes.length === 0) return fail('decode', new Error('the file is empty (0 bytes)'));
  const meta = await sharp(bytes).metadata().catch(() => undefined);
  let image;
  try {
    image = await decodeImage(bytes, { maxPixels: options.maxPixels });
  } catch (e) {
    return fail('decode', e);
  }
  const stored = meta ? `${meta.format} ${meta.width}×${meta.height}, ${meta.channels} channel(s) ${meta.space}${meta.depth && meta.depth !== 'uchar' ? ` ${meta.depth}` : ''}${meta.orientation && meta.orientation !== 1 ? `, EXIF orientation ${meta.orientation}` : ''}${(meta.pages ?? 1) > 1 ? `, ${meta.pages} pages (first used)` : ''}` : 'bmp (decoded by libs/vision)';
  steps.push({ step: 'decode', ok: true, dtype: 'uint8', shape: [image.height, image.width, 3], ...stats(image.data), detail: `HWC sRGB, from ${stored}` });
  const seed = options.seed ?? 42;
  let pre;
  try {
    // From the bytes, as training presizes (large JPEGs shrink on load), not from `image`.
    pre = await presize(bytes, presizeSpec, new Random(seed).fork('presize'), { maxPixels: options.maxPixels });
  } catch (e) {
    return fail('presize', e);
  }
  steps.push({ step: 'presize', ok: true, dtype: 'uint8', shape: [pre.height, pre.width, 3], ...stats(pre.data), detail: `Resize ${presizeSpec.method ?? 'crop'}${(presizeSpec.method ?? 'crop') === 'pad' ? ` (${presizeSpec.padMode ?? 'reflection'})` : ''}` });
  let augmenter: BatchAugmenter | undefined;
  try {
    const spec = augTransforms(augment);
    augmenter = await BatchAugmenter.create(spec, { inputHeight: pre.height, inputWidth: pre.width }, 'cpu', { threads: options.threads ?? 1 });
    const params = drawAugmentParams(spec, 1, new Random(seed).fork('augment'), { height: pre.height, width: pre.width });
    const out = await augmenter.run([pre.data], params);
    const d = params.draws[0];
    steps.push({ step: 'augment', ok: true, dtype: 'float32', shape: [...out.shape], ...stats(out.data), detail: `NCHW, normalised (mean ${spec.mean.join('/')}, std ${spec.std.join('/')}); drawn: flip ${d.flip}, rotate ${d.rotate.toFixed(1)}°, zoom ${d.zoom.toFixed(3)}, warp ${d.warp.map((v) => v.toFixed(3)).join('/')}, crop ${d.crop ? `${d.crop.size}px at ${d.crop.left},${d.crop.top}` : 'none'}, brightness ${d.brightness.toFixed(3)}, contrast ${d.contrast.toFixed(3)}` });
    try {
      const valid = await augmenter.run([pre.data], validParams(1, spec, { height: pre.height, width: pre.width }));
      steps.push({ step: 'validation', ok: true, dtype: 'float32', shape: [...valid.shape], ...stats(valid.data), detail: 'the deterministic validation transform (centre resize, no lighting), normalised' });
    } catch (e) {
      return fail('validation', e);
    }
  } catch (e) {
    return fail('augment', e);
  } finally {
    await augmenter?.release();
  }
  return steps;
}
