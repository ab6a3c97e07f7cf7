// Batch transforms, the graph half: an ONNX graph that turns a uint8 NHWC batch (as presized) into
// the normalised float NCHW batch a model reads, resampling each image ONCE through a projective
// grid (GridSample), then /255, lighting in logit space and Normalize — fastai's batch_tfms order.
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
}

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

/** fastai's IntToFloatTensor: x / 255. */
function toUnit(b: GraphBuilder, x: string): string {
  return b.op('Div', [x, b.scalar(255, 'u8_max')]);
}

function normalize(b: GraphBuilder, x: string, spec: AugmentSpec): string {
  const mean = b.constant(tensor('float32', [1, 3, 1, 1], Float32Array.from(spec.mean)), 'mean');
  const std = b.constant(tensor('float32', [1, 3, 1, 1], Float32Array.from(spec.std)), 'std');
  return b.op('Div', [b.op('Sub', [x, mean]), std], {}, { outputs: ['batch'] });
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
  const b = new GraphBuilder('augment');
  const images = b.input('images', 'uint8', [n, sizes.inputHeight, sizes.inputWidth, 3]);
  const theta = b.input('theta', 'float32', [n, 3, 3]);
  // Bilinear sampling is linear, so fastai's /255 (done before the affine step) commutes with it;
  // dividing after GridSample works on the output size (2.25× fewer values at 192² → 128²).
  const x = toFloatNchw(b, images);

  // grid[n, p] = theta[n] · base[p]: [P, 3] @ [N, 3, 3]ᵀ → [N, P, 3], then divide by the third
  // coordinate (exactly 1 for affine matrices, so the division changes nothing there).
  const base = b.constant(tensor('float32', [hOut * wOut, 3], baseGrid(hOut, wOut, spec.alignCorners)), 'base_grid');
  const homog = b.op('MatMul', [base, b.op('Transpose', [theta], { perm: [0, 2, 1] })]);
  const axes = b.int64s([2], 'axis2');
  const xy = b.op('Slice', [homog, b.int64s([0]), b.int64s([2]), axes]);
  const w = b.op('Slice', [homog, b.int64s([2]), b.int64s([3]), axes]);
  const grid = b.op('Reshape', [b.op('Div', [xy, w]), b.int64s([-1, hOut, wOut, 2], 'grid_shape')]);
  let y = toUnit(b, b.op('GridSample', [x, grid], { mode: 'bilinear', padding_mode: spec.padMode, align_corners: spec.alignCorners ? 1 : 0 }));

  if (lighting) {
    const contrast = b.input('contrast', 'float32', [n, 1, 1, 1]);
    const brightness = b.input('brightness', 'float32', [n, 1, 1, 1]);
    // logit(x) = log(x / (1 − x)) after fastai's clamp; 1 − x is exact near 1 (Sterbenz), so this
    // is the accurate form of fastai's −log(1/x − 1).
    const clamped = b.op('Clip', [y, b.scalar(LOGIT_EPS, 'logit_lo'), b.scalar(1 - LOGIT_EPS, 'logit_hi')]);
    const logits = b.op('Log', [b.op('Div', [clamped, b.op('Sub', [b.scalar(1, 'one'), clamped])])]);
    y = b.op('Sigmoid', [b.op('Mul', [b.op('Add', [logits, brightness]), contrast])]);
  }
  b.output(normalize(b, y, spec), 'float32', [n, 3, hOut, wOut]);
  return b.build({ opset: 17, metadata: { 'paddock.stage': 'augment', 'paddock.augment.lighting': String(lighting) } });
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
  b.output(normalize(b, toUnit(b, toFloatNchw(b, images)), spec), 'float32', [n, 3, h, w]);
  return b.build({ opset: 17, metadata: { 'paddock.stage': 'normalize' } });
}

