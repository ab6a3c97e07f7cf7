// Batch transforms, the graph half: an ONNX graph that turns a uint8 NHWC batch (as presized) into
// the normalised float NCHW batch a model reads, resampling each image ONCE (bilinear, torch
// grid_sample semantics) through a projective grid, then /255, lighting in logit space and
// Normalize — fastai's batch_tfms order.
import { tensor } from '@paddock/tensor';
import { GraphBuilder, type Dim, type Model } from '@paddock/onnx';
import type { AugmentSpec } from './augment-params.ts';

export interface AugmentGraphSizes {
  /** Fixed batch size, or omitted for a symbolic 'N' (the last, smaller batch then works too). */
  batchSize?: number;
  inputHeight: number;
  inputWidth: number;
}

export interface AugmentGraphOptions {
  /** Include the lighting step (train); validation graphs leave it out. Default true. */
  lighting?: boolean;
  /** How the bilinear resampling is expressed (both give torch grid_sample's pixels). */
  sampler?: Sampler;
}

/** gather: 4 taps per pixel by GatherElements and a weighted sum; gridsample: onnxruntime's
 *  GridSample. */
export type Sampler = 'gather' | 'gridsample';
/** gather: about 2× GridSample's batches/s on 2 CPU threads (batch 64, 192² → 128², bench/augment.ts). */
export const DEFAULT_SAMPLER: Sampler = 'gather';

/** fastai's logit clamp (fastai.torch_core.logit: x.clamp(1e-7, 1-1e-7)). */
const LOGIT_EPS = 1e-7;

/** Base grid (x, y, 1) of an H×W output in GridSample's normalised coordinates, row-major. */
export function baseGrid(height: number, width: number, alignCorners: boolean): Float32Array {
  const coord = (i: number, n: number) => (alignCorners ? (n > 1 ? -1 + (2 * i) / (n - 1) : 0) : (2 * i + 1) / n - 1);
  const g = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      g[o] = coord(x, width);
      g[o + 1] = coord(y, height);
      g[o + 2] = 1;
    }
  return g;
}

/** uint8 NHWC → float NCHW, still in [0, 255]. Transposing the 1-byte values before the cast
 *  moves a quarter of the bytes. */
function toFloatNchw(b: GraphBuilder, images: string): string {
  return b.cast(b.op('Transpose', [images], { perm: [0, 3, 1, 2] }), 'float32');
}

/**
 * Normalize of x / `scale` (fastai's IntToFloatTensor when scale is 255), as one Mul and one Sub.
 * The folded constants start from mean and std as float32, so a spec that crossed the wire (the
 * proto carries them as float) builds the very same graph as the double-valued original.
 */
function normalize(b: GraphBuilder, x: string, spec: AugmentSpec, scale: number): string {
  const [mean, std] = [Float32Array.from(spec.mean), Float32Array.from(spec.std)];
  const gain = b.constant(tensor('float32', [1, 3, 1, 1], std.map((s) => 1 / (scale * s))), 'inv_std');
  const offset = b.constant(tensor('float32', [1, 3, 1, 1], mean.map((m, c) => m / std[c])), 'mean_over_std');
  return b.op('Sub', [b.op('Mul', [x, gain]), offset], {}, { outputs: ['batch'] });
}

/**
 * fastai's Brightness then Contrast in logit space, on x in [0, 255] (so x / 255 is never formed):
 * sigmoid((logit(x / 255) + brightness) · contrast), logit after fastai's clamp to [1e-7, 1 − 1e-7].
 * logit(x / 255) = log(x / (255 − x)); 255 − x is exact near 255 (Sterbenz), so this is the
 * accurate form of fastai's −log(1/x − 1). Output in [0, 1].
 */
function lightingLogit(b: GraphBuilder, x: string, contrast: string, brightness: string): string {
  const clamped = b.op('Clip', [x, b.scalar(255 * LOGIT_EPS, 'logit_lo'), b.scalar(255 * (1 - LOGIT_EPS), 'logit_hi')]);
  const logits = b.op('Log', [b.op('Div', [clamped, b.op('Sub', [b.scalar(255, 'u8_max'), clamped])])]);
  return b.op('Sigmoid', [b.op('Mul', [b.op('Add', [logits, brightness]), contrast])]);
}

/** [P, 3] row-major → [3, P]. */
function transpose3(g: Float32Array): Float32Array {
  const p = g.length / 3;
  const t = new Float32Array(g.length);
  for (let i = 0; i < p; i++) for (let k = 0; k < 3; k++) t[k * p + i] = g[i * 3 + k];
  return t;
}

/**
 * The source of every output pixel, [N, 2 (x, y), P]: (affine · theta) · base divided by the
 * homogeneous coordinate (exactly 1 for affine thetas). `affine` (row-major 3×3, last row 0 0 1)
 * maps GridSample's normalised coordinates to the ones the caller wants. Laid out so the division
 * broadcasts over a middle axis: over the last one (as [N, P, 2] / [N, P, 1]) onnxruntime was ~15×
 * slower.
 */
function sourceCoordinates(b: GraphBuilder, theta: string, spec: AugmentSpec, affine: number[]): string {
  const [hOut, wOut] = spec.size;
  const baseT = b.constant(tensor('float32', [3, hOut * wOut], transpose3(baseGrid(hOut, wOut, spec.alignCorners))), 'base_grid_t');
  const m = b.op('MatMul', [b.constant(tensor('float32', [3, 3], Float32Array.from(affine)), 'affine'), theta]);
  const [mxy, mw] = b.opN('Split', [m, b.int64s([2, 1], 'split_xy_w')], { axis: 1 }, { outputs: 2 });
  return b.op('Div', [b.op('MatMul', [mxy, baseT]), b.op('MatMul', [mw, baseT])]);
}

/** Resampling through onnxruntime's GridSample. Output float NCHW in [0, 255]. */
function sampleByGridSample(b: GraphBuilder, images: string, theta: string, spec: AugmentSpec): string {
  const [hOut, wOut] = spec.size;
  const xy = sourceCoordinates(b, theta, spec, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const grid = b.op('Reshape', [b.op('Transpose', [xy], { perm: [0, 2, 1] }), b.int64s([-1, hOut, wOut, 2], 'grid_shape')]);
  return b.op('GridSample', [toFloatNchw(b, images), grid], { mode: 'bilinear', padding_mode: spec.padMode, align_corners: spec.alignCorners ? 1 : 0 });
}

/**
 * The same bilinear resampling (torch grid_sample semantics) in plain ops: per output pixel, the
 * top-left tap and the fractional offsets come from the grid after the padding mode's coordinate
 * mapping, and the 4 taps are gathered from the uint8 image. Zeros padding samples the image
 * framed by one row/column of zeros, where every out-of-image tap lands (or, far outside, all four).
 * Output float NCHW in [0, 255].
 */
function sampleByGather(b: GraphBuilder, images: string, theta: string, spec: AugmentSpec, sizes: AugmentGraphSizes): string {
  const [hOut, wOut] = spec.size;
  const p = hOut * wOut;
  const frame = spec.padMode === 'zeros' ? 1 : 0;
  const [h, w] = [sizes.inputHeight + 2 * frame, sizes.inputWidth + 2 * frame];
  // The flat tap index is formed in float32: exact below 2^24 pixels.
  if (h * w >= 2 ** 24) throw new RangeError(`augment: the gather sampler takes images under 2^24 pixels, got ${sizes.inputHeight}×${sizes.inputWidth}; presize smaller or use sampler 'gridsample'`);
  const perAxis = (x: number, y: number, hint: string) => b.constant(tensor('float32', [1, 2, 1], Float32Array.of(x, y)), hint);
  const bothAxes = (f: (n: number) => number, hint: string) => perAxis(f(sizes.inputWidth), f(sizes.inputHeight), hint);

  // Unnormalising (torch's grid_sampler_compute_source_index) is affine, so it is folded into the
  // matrix ahead of theta: coordinates come out in pixels of the sampled image. Reflection also
  // shifts by its period's centre, so its fold below is one Round.
  const span = (n: number) => (spec.alignCorners ? Math.max(n - 1, 1) : n); // reflect_coordinates' span (0 → 1: the clip sends it to 0)
  const low = spec.alignCorners ? 0 : -0.5; // and its low edge
  const shift = (n: number) => (spec.padMode === 'reflection' ? -(low + span(n)) : frame);
  const unnormalise = (n: number): [number, number] => (spec.alignCorners ? [(n - 1) / 2, (n - 1) / 2 + shift(n)] : [n / 2, (n - 1) / 2 + shift(n)]);
  const [ax, bx] = unnormalise(sizes.inputWidth);
  const [ay, by] = unnormalise(sizes.inputHeight);
  // [N, 2, P]: x and y of every output pixel's source, in pixels of the sampled image.
  let c = sourceCoordinates(b, theta, spec, [ax, 0, bx, 0, ay, by, 0, 0, 1]);
  const zero = b.scalar(0, 'zero');
  const clip = (x: string, hiX: number, hiY: number, hint: string) =>
    hiX === hiY ? b.op('Clip', [x, zero, b.scalar(hiX, hint)]) : b.op('Min', [b.op('Max', [x, zero]), perAxis(hiX, hiY, hint)]);
  if (spec.padMode === 'reflection') {
    // torch's reflect_coordinates as a triangle wave: with d = c − 2·span·round(c / 2·span) (c is
    // already shifted by low + span), the reflected coordinate is low + span − |d|; round's ties
    // are where the wave is continuous. The clip below is torch's own clip after reflecting.
    const periods = b.op('Round', [b.op('Mul', [c, bothAxes((n) => 1 / (2 * span(n)), 'reflect_frequency')])]);
    const d = b.op('Sub', [c, b.op('Mul', [periods, bothAxes((n) => 2 * span(n), 'reflect_period')])]);
    c = b.op('Sub', [bothAxes((n) => low + span(n), 'reflect_top'), b.op('Abs', [d])]);
  }
  // A warp strong enough to fold the grid (maxWarp ≳ 0.4) can divide by 0 (or reflect ∞): such a
  // coordinate becomes 0 (the first row or column) instead of an index the gather cannot take.
  c = b.op('Where', [b.op('IsNaN', [c]), zero, c]);
  // Clamped to the sampled image: torch's border clip, the reflection's clip, and for zeros any
  // coordinate beyond the frame (all four taps there are zeros, as torch's would be).
  c = clip(c, w - 1, h - 1, 'last_index');
  // The top-left tap stays one short of the last index so the bottom-right one is inside; at the
  // last index that tap then has weight 1. A 1-pixel axis samples its one pixel twice.
  const lo = clip(b.op('Floor', [c]), Math.max(w - 2, 0), Math.max(h - 2, 0), 'last_top_left');
  const frac = b.op('Unsqueeze', [b.op('Sub', [c, lo]), b.int64s([2], 'tap_axis')]);
  // Tap weights per axis [N, 2 axes, 2 taps, P] → 4 taps [N, 1, 4, P], order (y0x0, y0x1, y1x0, y1x1).
  const [wx, wy] = b.opN('Split', [b.op('Concat', [b.op('Sub', [b.scalar(1, 'one'), frac]), frac], { axis: 2 }), b.int64s([1, 1], 'split_axes')], { axis: 1 }, { outputs: 2 });
  const weight = b.op('Reshape', [b.op('Mul', [b.op('Reshape', [wy, b.int64s([0, 2, 1, p], 'y_taps_shape')]), wx]), b.int64s([0, 1, 4, p], 'weight_shape')]);
  // Flat index of the top-left tap, y·W + x (exact in float32 up to 2^24 pixels per image), then
  // of the other three.
  const topLeft = b.op('MatMul', [b.constant(tensor('float32', [1, 2], Float32Array.of(1, w)), 'row_stride'), lo]);
  const offsets = b.constant(tensor('float32', [1, 4, 1], Float32Array.of(0, w > 1 ? 1 : 0, h > 1 ? w : 0, (w > 1 ? 1 : 0) + (h > 1 ? w : 0))), 'tap_offsets');
  const index = b.op('Reshape', [b.cast(b.op('Add', [topLeft, offsets]), 'int32'), b.int64s([0, 1, 4 * p], 'tap_index_shape')]);
  // GatherElements (a typed loop) is ~4× faster than Gather of 3-byte rows (a memcpy per index);
  // one per channel of the planar image, sharing the indices, measured a little faster than one
  // over [N, 3, H·W] with the indices expanded to 3 channels, and than gathering floats.
  const framed = frame ? b.op('Pad', [images, b.int64s([0, 1, 1, 0, 0, 1, 1, 0], 'zero_frame')]) : images;
  const planar = b.op('Reshape', [b.op('Transpose', [framed], { perm: [0, 3, 1, 2] }), b.int64s([0, 3, h * w], 'planar_shape')]);
  const channels = b.opN('Split', [planar, b.int64s([1, 1, 1], 'split_channels')], { axis: 1 }, { outputs: 3 });
  const gathered = b.op('Concat', channels.map((ch) => b.op('GatherElements', [ch, index], { axis: 2 })), { axis: 1 });
  const taps = b.op('Reshape', [b.cast(gathered, 'float32'), b.int64s([0, 3, 4, p], 'planar_taps_shape')]);
  const sum = b.op('ReduceSum', [b.op('Mul', [taps, weight]), b.int64s([2], 'tap_sum_axis')], { keepdims: 0 });
  return b.op('Reshape', [sum, b.int64s([0, 3, hOut, wOut], 'nchw_shape')]);
}

/**
 * Inputs: images uint8 [N, Hin, Win, 3]; theta float32 [N, 3, 3] (output→input normalised coords,
 * projective; affine rows + [0, 0, 1] when there is no warp); contrast, brightness float32
 * [N, 1, 1, 1] (brightness already in logit space). Output: batch float32 [N, 3, Hout, Wout].
 */
export function buildAugmentGraph(spec: AugmentSpec, sizes: AugmentGraphSizes, options: AugmentGraphOptions = {}): Model {
  const [hOut, wOut] = spec.size;
  const n: Dim = sizes.batchSize ?? 'N';
  const lighting = options.lighting ?? true;
  const sampler = options.sampler ?? DEFAULT_SAMPLER;
  const b = new GraphBuilder('augment');
  const images = b.input('images', 'uint8', [n, sizes.inputHeight, sizes.inputWidth, 3]);
  const theta = b.input('theta', 'float32', [n, 3, 3]);
  const sampled = sampler === 'gather' ? sampleByGather(b, images, theta, spec, sizes) : sampleByGridSample(b, images, theta, spec);
  // Bilinear sampling is linear, so fastai's /255 (done before the affine step) commutes with it
  // and is folded into the lighting or the normalisation that follows.
  const y = lighting ? lightingLogit(b, sampled, b.input('contrast', 'float32', [n, 1, 1, 1]), b.input('brightness', 'float32', [n, 1, 1, 1])) : sampled;
  b.output(normalize(b, y, spec, lighting ? 1 : 255), 'float32', [n, 3, hOut, wOut]);
  return b.build({ opset: 17, metadata: { 'paddock.stage': 'augment', 'paddock.augment.lighting': String(lighting), 'paddock.augment.sampler': sampler } });
}

/**
 * Validation when the presized input already has the output size (and no centre crop applies):
 * uint8 NHWC → normalised NCHW with no resampling at all, so the pixels are exactly the presized
 * ones (an identity GridSample is equal only up to float rounding of the grid).
 */
export function buildNormalizeGraph(spec: AugmentSpec, sizes: { batchSize?: number } = {}): Model {
  const [h, w] = spec.size;
  const n: Dim = sizes.batchSize ?? 'N';
  const b = new GraphBuilder('normalize');
  const images = b.input('images', 'uint8', [n, h, w, 3]);
  b.output(normalize(b, toFloatNchw(b, images), spec, 255), 'float32', [n, 3, h, w]);
  return b.build({ opset: 17, metadata: { 'paddock.stage': 'normalize' } });
}

