// Batch transforms, the JS half: fastai's aug_transforms as a plain spec, and the per-image random
// draws (flip/dihedral, warp, rotate, zoom, random-resized-crop, brightness, contrast) composed into
// ONE 3×3 sampling matrix per image plus two lighting numbers, which the augmentation graph applies.
import type { Random } from '@paddock/tensor';
import { sizeHW, type PadMode } from './resize-window.ts';

export interface AugmentOptions {
  /** Output size: a square side or [height, width]. */
  size: number | readonly [number, number];
  minScale?: number;
  doFlip?: boolean;
  flipVert?: boolean;
  maxRotate?: number;
  minZoom?: number;
  maxZoom?: number;
  maxWarp?: number;
  pAffine?: number;
  maxLighting?: number;
  pLighting?: number;
  padMode?: PadMode;
  alignCorners?: boolean;
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

/** aug_transforms(...) with every default filled in; plain data (serialisable, hashable). */
export interface AugmentSpec {
  readonly size: readonly [number, number];
  readonly minScale: number;
  readonly doFlip: boolean;
  readonly flipVert: boolean;
  readonly maxRotate: number;
  readonly minZoom: number;
  readonly maxZoom: number;
  readonly maxWarp: number;
  readonly pAffine: number;
  readonly maxLighting: number;
  readonly pLighting: number;
  readonly padMode: PadMode;
  readonly alignCorners: boolean;
  readonly mode: 'bilinear';
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** fastai's aug_transforms defaults (fastai 2.x), plus Normalize with ImageNet statistics. */
export function augTransforms(opts: AugmentOptions): AugmentSpec {
  const spec: AugmentSpec = {
    size: sizeHW(opts.size),
    minScale: opts.minScale ?? 1,
    doFlip: opts.doFlip ?? true,
    flipVert: opts.flipVert ?? false,
    maxRotate: opts.maxRotate ?? 10,
    minZoom: opts.minZoom ?? 1,
    maxZoom: opts.maxZoom ?? 1.1,
    maxWarp: opts.maxWarp ?? 0.2,
    pAffine: opts.pAffine ?? 0.75,
    maxLighting: opts.maxLighting ?? 0.2,
    pLighting: opts.pLighting ?? 0.75,
    padMode: opts.padMode ?? 'reflection',
    alignCorners: opts.alignCorners ?? true,
    mode: 'bilinear',
    mean: opts.mean ?? IMAGENET_MEAN,
    std: opts.std ?? IMAGENET_STD,
  };
  const bad = (field: string, why: string) => new RangeError(`augTransforms: ${field} ${why}`);
  if (!(spec.minScale > 0 && spec.minScale <= 1)) throw bad('minScale', `must be in (0, 1], got ${spec.minScale}`);
  for (const p of ['pAffine', 'pLighting'] as const) if (!(spec[p] >= 0 && spec[p] <= 1)) throw bad(p, `must be a probability, got ${spec[p]}`);
  if (!(spec.minZoom > 0 && spec.minZoom <= spec.maxZoom)) throw bad('minZoom/maxZoom', `need 0 < minZoom <= maxZoom, got ${spec.minZoom}, ${spec.maxZoom}`);
  if (!(spec.maxLighting >= 0 && spec.maxLighting < 1)) throw bad('maxLighting', `must be in [0, 1), got ${spec.maxLighting}`);
  if (!(spec.maxWarp >= 0 && spec.maxRotate >= 0)) throw bad('maxWarp/maxRotate', 'must be >= 0');
  if (!['zeros', 'border', 'reflection'].includes(spec.padMode)) throw bad('padMode', `must be zeros, border or reflection, got ${spec.padMode}`);
  if (spec.std.some((s) => !(s > 0))) throw bad('std', 'must be positive');
  return spec;
}

/** What was drawn for one image, in fastai's terms (neutral values where a transform was skipped). */
export interface ImageDraw {
  /** Horizontal flip (doFlip and not flipVert). */
  flip: boolean;
  /** Dihedral index 0..7 (flipVert); 0 is the identity. */
  dihedral: number;
  /** Perspective warp magnitudes (fastai _WarpCoord's x_t, y_t); 0 when not applied. */
  warp: [number, number];
  /** Rotation in degrees; 0 when not applied. */
  rotate: number;
  /** Zoom factor (>= 1 zooms in); 1 when not applied. */
  zoom: number;
  /** Zoom centre (col_pct, row_pct) in [0, 1). */
  zoomCentre: [number, number];
  /** Random-resized-crop square in input pixels (minScale < 1), or null. */
  crop: { top: number; left: number; size: number } | null;
  /** Brightness "change" in (0, 1); 0.5 is neutral. The graph adds logit(change). */
  brightness: number;
  /** Contrast factor; 1 is neutral. The graph multiplies the logits by it. */
  contrast: number;
}

export interface AugmentParams {
  readonly count: number;
  /** true: validation parameters (no lighting; the augmenter may skip resampling). */
  readonly valid: boolean;
  /** [N, 3, 3] row-major: maps OUTPUT normalised coords (x, y, 1) to INPUT normalised coords
   *  (GridSample's [-1, 1] convention), projectively: (x', y') = (M·p)[0:2] / (M·p)[2]. */
  readonly theta: Float32Array;
  /** [N] contrast factors. */
  readonly contrast: Float32Array;
  /** [N] brightness in logit space (logit(change)). */
  readonly brightness: Float32Array;
  /** Per image draws (empty for validation parameters). */
  readonly draws: readonly ImageDraw[];
}

export interface ImageSize {
  height: number;
  width: number;
}

type Mat3 = number[]; // row-major 3×3

const identity = (): Mat3 => [1, 0, 0, 0, 1, 0, 0, 0, 1];

function mul(a: Mat3, b: Mat3): Mat3 {
  const out = new Array<number>(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return out;
}

/** fastai dihedral_mat: the 8 symmetries of the square, as (xs, ys, m0, m1) tables. */
function dihedralMat(k: number): Mat3 {
  const xs = [1, -1, 1, -1, -1, 1, 1, -1][k];
  const ys = [1, 1, -1, 1, -1, -1, 1, -1][k];
  const m0 = [1, 1, 1, 0, 1, 0, 0, 0][k];
  const m1 = [0, 0, 0, 1, 0, 1, 1, 1][k];
  return [xs * m0, xs * m1, 0, ys * m1, ys * m0, 0, 0, 0, 1];
}

/** Solve A·x = b (n×n, row-major) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-12) throw new Error('warp: singular perspective system');
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * fastai's _WarpCoord: the four corners move to targ = f(x_t, y_t) and the grid is mapped by the
 * homography find_coeffs(orig, targ), which sends targ points to orig points.
 */
export function warpMatrix(xt: number, yt: number): Mat3 {
  if (xt === 0 && yt === 0) return identity();
  const orig = [[-1, -1], [-1, 1], [1, -1], [1, 1]];
  const targ = [[-1 - yt, -1 - xt], [-1 + yt, 1 + xt], [1 + yt, -1 + xt], [1 - yt, 1 - xt]];
  const rows: number[][] = [];
  const rhs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [X, Y] = orig[i];
    const [x, y] = targ[i];
    rows.push([x, y, 1, 0, 0, 0, -X * x, -X * y]);
    rhs.push(X);
    rows.push([0, 0, 0, x, y, 1, -Y * x, -Y * y]);
    rhs.push(Y);
  }
  return [...solve(rows, rhs), 1];
}

/** Output→input affine of a crop of input pixels [left, left+width) × [top, top+height). */
function cropMatrix(crop: { top: number; left: number; size: number }, input: ImageSize, alignCorners: boolean): Mat3 {
  const axis = (start: number, len: number, n: number): [number, number] => {
    // align_corners: normalised ±1 are the centres of the corner pixels, else their outer edges.
    if (alignCorners) return n > 1 ? [(len - 1) / (n - 1), (2 * start + len - 1) / (n - 1) - 1] : [1, 0];
    return [len / n, (2 * start + len) / n - 1];
  };
  const [ax, bx] = axis(crop.left, crop.size, input.width);
  const [ay, by] = axis(crop.top, crop.size, input.height);
  return [ax, 0, bx, 0, ay, by, 0, 0, 1];
}

/**
 * Compose one image's draws into the single output→input matrix, in fastai's order:
 * input = warp(prepare(flip · rotate · zoom) · crop(output)).
 * - flip/dihedral, rotate_mat [[cos, sin], [−sin, cos]], zoom_mat [[1/z, 0, (1−1/z)(2·col−1)], …]
 *   are multiplied in aug_transforms' order, then fastai's _prepare_mat scales the off-diagonals by
 *   h/w and w/h of the input so rotations keep right angles on non-square images;
 * - the perspective warp (fastai applies it to the affine grid) is a homography on the left;
 * - RandomResizedCropGPU runs after the affine step in fastai (a second resampling); here it is
 *   the right-most factor of the same matrix, so each output pixel is interpolated once.
 */
export function composeTheta(draw: ImageDraw, input: ImageSize, alignCorners = true): Mat3 {
  let a = draw.dihedral ? dihedralMat(draw.dihedral) : draw.flip ? [-1, 0, 0, 0, 1, 0, 0, 0, 1] : identity();
  if (draw.rotate !== 0) {
    const t = (draw.rotate * Math.PI) / 180;
    a = mul(a, [Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t), 0, 0, 0, 1]);
  }
  if (draw.zoom !== 1) {
    const s = 1 / draw.zoom;
    a = mul(a, [s, 0, (1 - s) * (2 * draw.zoomCentre[0] - 1), 0, s, (1 - s) * (2 * draw.zoomCentre[1] - 1), 0, 0, 1]);
  }
  a[1] *= input.height / input.width;
  a[3] *= input.width / input.height;
  let m = mul(warpMatrix(draw.warp[0], draw.warp[1]), a);
  if (draw.crop) m = mul(m, cropMatrix(draw.crop, input, alignCorners));
  return m;
}

/** A draw that changes nothing. */
export function neutralDraw(): ImageDraw {
  return { flip: false, dihedral: 0, warp: [0, 0], rotate: 0, zoom: 1, zoomCentre: [0.5, 0.5], crop: null, brightness: 0.5, contrast: 1 };
}

/**
 * fastai's RandomResizedCropGPU with ratio (1, 1), drawn per image: area = U(minScale, 1)·w·h,
 * side = round(√area), up to 10 tries to fit, top/left uniform integers; else the centred square
 * of side min(w, h).
 */
function drawCrop(r: Random, minScale: number, input: ImageSize): { top: number; left: number; size: number } {
  const { width: w, height: h } = input;
  for (let attempt = 0; attempt < 10; attempt++) {
    const side = Math.round(Math.sqrt(r.uniform(minScale, 1) * w * h));
    if (side <= w && side <= h) return { top: r.int(h - side + 1), left: r.int(w - side + 1), size: side };
  }
  return centreCrop(input);
}

function centreCrop(input: ImageSize): { top: number; left: number; size: number } {
  const side = Math.min(input.width, input.height);
  return { top: Math.floor((input.height - side) / 2), left: Math.floor((input.width - side) / 2), size: side };
}

/**
 * One image's draws. Each transform reads its own fork of `r`, and draws its value even when its
 * coin says "skip", so changing one probability or range never shifts another transform's numbers.
 *
 * Lighting, as fastai's _BrightnessLogit / _ContrastLogit (max_lighting = m):
 *   brightness change b ~ U(0.5(1−m), 0.5(1+m)) with p pLighting, else 0.5 (neutral);
 *   contrast c = exp(U(log(1−m), −log(1−m))) with p pLighting, else 1;
 * and the graph computes x ← sigmoid((logit(x) + logit(b)) · c): brightness is added first, then
 * contrast multiplies, because aug_transforms lists Brightness before Contrast and the merged
 * LightingTfm applies its functions in list order.
 */
export function drawImage(spec: AugmentSpec, input: ImageSize, r: Random): ImageDraw {
  const d = neutralDraw();
  if (spec.doFlip && !spec.flipVert) d.flip = r.fork('flip').bernoulli(0.5);
  if (spec.doFlip && spec.flipVert) {
    const f = r.fork('dihedral');
    const k = f.int(8);
    d.dihedral = f.bernoulli(0.5) ? k : 0;
  }
  if (spec.maxWarp > 0) {
    // fastai masks x_t and y_t with two independent coins.
    const f = r.fork('warp');
    const xt = f.uniform(-spec.maxWarp, spec.maxWarp);
    const yt = f.uniform(-spec.maxWarp, spec.maxWarp);
    d.warp = [f.bernoulli(spec.pAffine) ? xt : 0, f.bernoulli(spec.pAffine) ? yt : 0];
  }
  if (spec.maxRotate > 0) {
    const f = r.fork('rotate');
    const deg = f.uniform(-spec.maxRotate, spec.maxRotate);
    d.rotate = f.bernoulli(spec.pAffine) ? deg : 0;
  }
  if (spec.minZoom < 1 || spec.maxZoom > 1) {
    const f = r.fork('zoom');
    const z = f.uniform(spec.minZoom, spec.maxZoom);
    d.zoomCentre = [f.next(), f.next()];
    d.zoom = f.bernoulli(spec.pAffine) ? z : 1;
  }
  if (spec.maxLighting > 0) {
    const m = spec.maxLighting;
    const fb = r.fork('brightness');
    const b = fb.uniform(0.5 * (1 - m), 0.5 * (1 + m));
    d.brightness = fb.bernoulli(spec.pLighting) ? b : 0.5;
    const fc = r.fork('contrast');
    const c = Math.exp(fc.uniform(Math.log(1 - m), -Math.log(1 - m)));
    d.contrast = fc.bernoulli(spec.pLighting) ? c : 1;
  }
  if (spec.minScale < 1) d.crop = drawCrop(r.fork('crop'), spec.minScale, input);
  return d;
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/** Pack draws into the tensors the augmentation graph reads. */
export function paramsFromDraws(draws: readonly ImageDraw[], input: ImageSize, alignCorners = true, valid = false): AugmentParams {
  const n = draws.length;
  const theta = new Float32Array(n * 9);
  const contrast = new Float32Array(n);
  const brightness = new Float32Array(n);
  draws.forEach((d, i) => {
    theta.set(composeTheta(d, input, alignCorners), i * 9);
    contrast[i] = d.contrast;
    brightness[i] = logit(d.brightness);
  });
  return { count: n, valid, theta, contrast, brightness, draws: valid ? [] : draws };
}

/**
 * Random parameters for a batch of `batchSize` images of size `input` (the presize size; defaults
 * to the output size). Advances `random` by one draw per image, so successive calls differ; each
 * image then draws from its own generator seeded by that number.
 */
export function drawAugmentParams(spec: AugmentSpec, batchSize: number, random: Random, input?: ImageSize): AugmentParams {
  const size = input ?? { height: spec.size[0], width: spec.size[1] };
  const draws: ImageDraw[] = [];
  for (let i = 0; i < batchSize; i++) draws.push(drawImage(spec, size, random.fork(random.nextUint32())));
  return paramsFromDraws(draws, size, spec.alignCorners);
}

/**
 * Validation parameters: no lighting and fastai's deterministic geometry — the identity (a plain
 * resize to the output size), or, when `spec.minScale < 1` and `input` is given, the centred
 * square RandomResizedCropGPU uses on the validation set.
 */
export function validParams(batchSize: number, spec?: AugmentSpec, input?: ImageSize): AugmentParams {
  const d = neutralDraw();
  if (spec && input && spec.minScale < 1) d.crop = centreCrop(input);
  const size = input ?? { height: 1, width: 1 };
  return paramsFromDraws(Array.from({ length: batchSize }, () => d), size, spec?.alignCorners ?? true, true);
}
