import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '@paddock/onnx';
import { Random } from '@paddock/tensor';
import {
  BatchAugmenter,
  augTransforms,
  buildAugmentGraph,
  drawAugmentParams,
  neutralDraw,
  paramsFromDraws,
  validParams,
  type AugmentParams,
  type AugmentSpec,
  type ImageDraw,
  type PadMode,
} from '../src/index.ts';
import { DEFAULT_SAMPLER, type Sampler } from '../src/augment-graph.ts';

// ---- an independent TypeScript reference of the whole batch transform (torch semantics) ----

/** torch's reflect_coordinates(x, twice_low, twice_high). */
function reflect(x: number, twiceLow: number, twiceHigh: number): number {
  if (twiceLow === twiceHigh) return 0;
  const min = twiceLow / 2;
  const span = (twiceHigh - twiceLow) / 2;
  x = Math.abs(x - min);
  const extra = x % span;
  const flips = Math.floor(x / span);
  return flips % 2 === 0 ? extra + min : span - extra + min;
}

/** torch.nn.functional.grid_sample's source index for one normalised coordinate. */
function sourceIndex(g: number, size: number, pad: PadMode, alignCorners: boolean): number {
  let x = alignCorners ? ((g + 1) / 2) * (size - 1) : ((g + 1) * size - 1) / 2;
  if (pad === 'border') x = Math.min(size - 1, Math.max(0, x));
  if (pad === 'reflection') {
    x = alignCorners ? reflect(x, 0, 2 * (size - 1)) : reflect(x, -1, 2 * size - 1);
    x = Math.min(size - 1, Math.max(0, x));
  }
  return x;
}

/** Bilinear sample of channel c of an HWC uint8 image (as [0, 1] floats) at normalised (gx, gy). */
function sample(img: Uint8Array, h: number, w: number, c: number, gx: number, gy: number, pad: PadMode, alignCorners: boolean): number {
  const x = sourceIndex(gx, w, pad, alignCorners);
  const y = sourceIndex(gy, h, pad, alignCorners);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  let v = 0;
  for (const [xi, wx] of [[x0, 1 - (x - x0)], [x0 + 1, x - x0]])
    for (const [yi, wy] of [[y0, 1 - (y - y0)], [y0 + 1, y - y0]]) {
      if (xi < 0 || xi >= w || yi < 0 || yi >= h) continue; // zeros padding (and zero-weight taps)
      v += wx * wy * (img[(yi * w + xi) * 3 + c] / 255);
    }
  return v;
}

function reference(images: Uint8Array[], hIn: number, wIn: number, params: AugmentParams, spec: AugmentSpec, lighting = true): Float32Array {
  const [H, W] = spec.size;
  const out = new Float32Array(images.length * 3 * H * W);
  const coord = (i: number, n: number) => (spec.alignCorners ? -1 + (2 * i) / (n - 1) : (2 * i + 1) / n - 1);
  images.forEach((img, n) => {
    const m = params.theta.subarray(n * 9, n * 9 + 9);
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const [xo, yo] = [coord(j, W), coord(i, H)];
        const d = m[6] * xo + m[7] * yo + m[8];
        const gx = (m[0] * xo + m[1] * yo + m[2]) / d;
        const gy = (m[3] * xo + m[4] * yo + m[5]) / d;
        for (let c = 0; c < 3; c++) {
          let v = sample(img, hIn, wIn, c, gx, gy, spec.padMode, spec.alignCorners);
          if (lighting) {
            const p = Math.min(1 - 1e-7, Math.max(1e-7, v));
            v = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + params.brightness[n]) * params.contrast[n]));
          }
          out[((n * 3 + c) * H + i) * W + j] = (v - spec.mean[c]) / spec.std[c];
        }
      }
  });
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function randomImage(r: Random, h: number, w: number): Uint8Array {
  return Uint8Array.from({ length: h * w * 3 }, () => r.int(256));
}

const draw = (d: Partial<ImageDraw>): ImageDraw => ({ ...neutralDraw(), ...d });
const augmenters: BatchAugmenter[] = [];
async function augmenter(spec: AugmentSpec, inputHeight: number, inputWidth: number, sampler?: Sampler): Promise<BatchAugmenter> {
  const a = await BatchAugmenter.create(spec, { inputHeight, inputWidth }, 'cpu', { threads: 1, sampler });
  augmenters.push(a);
  return a;
}
afterAll(async () => {
  for (const a of augmenters) await a.release();
});

describe('augmentation graph', () => {
  it('has the documented inputs, output and one resampling step', () => {
    const spec = augTransforms({ size: [8, 6] });
    const model = buildAugmentGraph(spec, { inputHeight: 12, inputWidth: 10 });
    expect(model.graph.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([
      ['images', 'uint8', ['N', 12, 10, 3]],
      ['theta', 'float32', ['N', 3, 3]],
      ['contrast', 'float32', ['N', 1, 1, 1]],
      ['brightness', 'float32', ['N', 1, 1, 1]],
    ]);
    expect(model.graph.outputs.map((v) => [v.name, v.shape])).toEqual([['batch', ['N', 3, 8, 6]]]);
    expect(model.opsets[0].version).toBe(17);
    const count = (m: typeof model, op: string) => m.graph.nodes.filter((n) => n.opType === op).length;
    // The default: 4 taps gathered per channel (one GatherElements each) and ONE weighted sum.
    expect(DEFAULT_SAMPLER).toBe('gather');
    expect(model.metadata['paddock.augment.sampler']).toBe('gather');
    expect([count(model, 'GridSample'), count(model, 'GatherElements'), count(model, 'ReduceSum')]).toEqual([0, 3, 1]);
    const viaGridSample = buildAugmentGraph(spec, { inputHeight: 12, inputWidth: 10 }, { sampler: 'gridsample' });
    expect([count(viaGridSample, 'GridSample'), count(viaGridSample, 'GatherElements'), count(viaGridSample, 'ReduceSum')]).toEqual([1, 0, 0]);
  });

  it('builds the same graph from a spec whose mean and std went through float32 (the proto)', () => {
    const spec = augTransforms({ size: 8 }); // ImageNet statistics: none is a float32 value
    expect(spec.mean.some((m) => Math.fround(m) !== m)).toBe(true);
    const wired: AugmentSpec = { ...spec, mean: spec.mean.map(Math.fround) as [number, number, number], std: spec.std.map(Math.fround) as [number, number, number] };
    for (const lighting of [true, false]) {
      const sizes = { inputHeight: 12, inputWidth: 12 };
      expect(Buffer.from(encodeModel(buildAugmentGraph(wired, sizes, { lighting }))).equals(Buffer.from(encodeModel(buildAugmentGraph(spec, sizes, { lighting }))))).toBe(true);
    }
  });

  it('(a) with nothing drawn and equal sizes, outputs the plain normalised image', async () => {
    const spec = augTransforms({ size: [8, 8], doFlip: false, pAffine: 0, pLighting: 0 });
    const r = new Random(1);
    const images = [randomImage(r, 8, 8), randomImage(r, 8, 8)];
    const plain = new Float32Array(2 * 3 * 64);
    images.forEach((img, n) => {
      for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) plain[(n * 3 + c) * 64 + p] = (img[p * 3 + c] / 255 - spec.mean[c]) / spec.std[c];
    });
    const aug = await augmenter(spec, 8, 8);
    const out = await aug.run(images, drawAugmentParams(spec, 2, new Random(3), { height: 8, width: 8 }));
    expect(out.shape).toEqual([2, 3, 8, 8]);
    expect(maxAbsDiff(out.data, plain)).toBeLessThan(1e-5);
    // The validation path takes the normalise-only graph: no resampling, float32-exact.
    const valid = await aug.run(images, validParams(2));
    expect(maxAbsDiff(valid.data, plain)).toBeLessThan(1e-6);
  });

  for (const sampler of ['gather', 'gridsample'] as const) {
    for (const [padMode, alignCorners] of [['reflection', true], ['reflection', false], ['zeros', true], ['border', false]] as const) {
      it(`(b) matches a per-pixel TS sampler for fixed draws (${padMode}, align_corners ${alignCorners}, ${sampler})`, async () => {
        const spec = augTransforms({ size: [8, 8], minScale: 0.8, padMode, alignCorners });
        const [hIn, wIn] = [12, 10];
        const r = new Random(42);
        const images = [randomImage(r, hIn, wIn), randomImage(r, hIn, wIn), randomImage(r, hIn, wIn)];
        const input = { height: hIn, width: wIn };
        // crop 0.8: side round(√(0.8·120)) = 10 → the whole width, rows 1..10.
        const draws = [
          draw({ rotate: 10, flip: true, zoom: 1.1, zoomCentre: [0.3, 0.6], crop: { top: 1, left: 0, size: 10 } }),
          draw({ warp: [0.15, -0.1], rotate: -7, brightness: 0.55, contrast: 1.2, crop: { top: 2, left: 1, size: 9 } }),
          draw({ dihedral: 5, zoom: 1.05, zoomCentre: [0.9, 0.1], brightness: 0.42, contrast: 0.85 }),
        ];
        const params = paramsFromDraws(draws, input, alignCorners);
        const aug = await augmenter(spec, hIn, wIn, sampler);
        const out = await aug.run(images, params);
        expect(maxAbsDiff(out.data, reference(images, hIn, wIn, params, spec))).toBeLessThan(1e-4);
        // and random draws from the default recipe
        const random = drawAugmentParams(spec, 3, new Random(8), input);
        expect(maxAbsDiff((await aug.run(images, random)).data, reference(images, hIn, wIn, random, spec))).toBeLessThan(1e-4);
      });
    }
  }

  it('the gather sampler matches the reference far outside the image, for every padding, align_corners both ways and tiny inputs', async () => {
    // Zoomed out 3× (the grid spans several reflection periods, and mostly the zeros or the
    // border), shifted, rotated and projective, and one that lands on pixel centres and edges.
    const thetas = [
      [3, 0, 0.4, 0, 3, -0.7, 0, 0, 1],
      [2.2, -1.1, -1.5, 0.9, 1.8, 2.3, 0, 0, 1],
      [1.4, 0.3, 0.2, -0.2, 1.6, 0.1, 0.35, -0.4, 1],
      [-1, 0, 0, 0, 1, 0, 0, 0, 1],
      [1.25, 0, 0.25, 0, 1.25, -0.25, 0, 0, 1],
    ];
    const n = thetas.length;
    const params: AugmentParams = { count: n, valid: false, theta: Float32Array.from(thetas.flat()), contrast: Float32Array.of(1, 1.3, 0.8, 1, 1.1), brightness: Float32Array.of(0, 0.4, -0.3, 0.1, 0), draws: [] };
    let cases = 0;
    for (const [hIn, wIn, size] of [[7, 5, [6, 9]], [6, 6, [5, 5]], [1, 4, [3, 4]], [3, 1, [2, 3]], [2, 2, [4, 3]]] as const)
      for (const padMode of ['zeros', 'border', 'reflection'] as const)
        for (const alignCorners of [true, false]) {
          const spec = augTransforms({ size: [size[0], size[1]], padMode, alignCorners });
          const r = new Random(hIn * 10 + wIn);
          const images = Array.from({ length: n }, () => randomImage(r, hIn, wIn));
          const out = await (await augmenter(spec, hIn, wIn, 'gather')).run(images, params);
          const expected = reference(images, hIn, wIn, params, spec);
          expect(maxAbsDiff(out.data, expected), `${hIn}×${wIn} → ${size}, ${padMode}, align_corners ${alignCorners}`).toBeLessThan(1e-4);
          cases++;
        }
    expect(cases).toBe(30);
  });

  it('a warp that folds the grid (division by 0, coordinates to ±∞) gives finite pixels, equal to the reference away from the fold', async () => {
    // fastai's warp at magnitude 0.45 sends the homogeneous coordinate through 0 near a corner;
    // the second theta divides 0 by 0 at x = −0.5 and y/0 along that column, exactly.
    const [hIn, wIn] = [9, 7];
    const warped = paramsFromDraws([draw({ warp: [0.45, 0.45], rotate: 8 })], { height: hIn, width: wIn });
    const theta = Float32Array.of(...warped.theta, 2, 0, 1, 0, 1, 0, 2, 0, 1);
    const params: AugmentParams = { count: 2, valid: false, theta, contrast: Float32Array.of(1.2, 0.9), brightness: Float32Array.of(0.2, -0.1), draws: [] };
    const r = new Random(77);
    const images = [randomImage(r, hIn, wIn), randomImage(r, hIn, wIn)];
    for (const padMode of ['zeros', 'border', 'reflection'] as const) {
      const spec = augTransforms({ size: [5, 5], padMode });
      const out = (await (await augmenter(spec, hIn, wIn, 'gather')).run(images, params)).data;
      expect(out.every(Number.isFinite)).toBe(true);
      const expected = reference(images, hIn, wIn, params, spec);
      let compared = 0;
      for (let n = 0; n < 2; n++)
        for (let i = 0; i < 5; i++)
          for (let j = 0; j < 5; j++) {
            const m = theta.subarray(n * 9, n * 9 + 9);
            if (Math.abs(m[6] * (-1 + j / 2) + m[7] * (-1 + i / 2) + m[8]) < 0.2) continue; // at the fold
            compared++;
            for (let c = 0; c < 3; c++) expect(Math.abs(out[((n * 3 + c) * 5 + i) * 5 + j] - expected[((n * 3 + c) * 5 + i) * 5 + j]), `${padMode} image ${n} pixel (${i}, ${j})`).toBeLessThan(1e-4);
          }
      expect(compared).toBeGreaterThan(30);
      expect(compared).toBeLessThan(50);
    }
  });

  it('(c) a flip alone mirrors a 2-pixel-wide image exactly', async () => {
    const spec = augTransforms({ size: [3, 2], doFlip: true, pAffine: 0, pLighting: 0 });
    const img = Uint8Array.from([10, 20, 30, 200, 150, 100, 0, 255, 1, 254, 2, 253, 77, 88, 99, 11, 22, 33]);
    const mirrored = new Uint8Array(18);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 2; x++) mirrored.set(img.subarray((y * 2 + x) * 3, (y * 2 + x) * 3 + 3), (y * 2 + (1 - x)) * 3);
    const aug = await augmenter(spec, 3, 2);
    const flipped = await aug.run([img], paramsFromDraws([draw({ flip: true })], { height: 3, width: 2 }));
    const expected = await aug.run([mirrored], validParams(1));
    expect(maxAbsDiff(flipped.data, expected.data)).toBeLessThan(1e-6);
  });

  it('(d) lighting: contrast 1 / brightness 0 is the identity; contrast 2 / brightness 0.5 by hand', async () => {
    const spec = augTransforms({ size: [2, 2], doFlip: false, pAffine: 0 });
    const img = Uint8Array.from([51, 0, 255, 128, 64, 32, 1, 254, 100, 200, 150, 250]);
    const aug = await augmenter(spec, 2, 2);
    const identity = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    const withLight = (contrast: number, brightness: number): AugmentParams => ({ count: 1, valid: false, theta: identity, contrast: Float32Array.of(contrast), brightness: Float32Array.of(brightness), draws: [] });
    const neutral = await aug.run([img], withLight(1, 0));
    const plain = await aug.run([img], validParams(1));
    expect(maxAbsDiff(neutral.data, plain.data)).toBeLessThan(1e-5);
    // pixel (0, 0), red = 51 → x = 0.2, logit = ln(0.25) = −1.386294; (−1.386294 + 0.5)·2 = −1.772589;
    // sigmoid = 1/(1 + e^1.772589) = 1/6.886070 = 0.145221; normalised (0.145221 − 0.485)/0.229 = −1.483752.
    const lit = await aug.run([img], withLight(2, 0.5));
    expect(lit.data[0]).toBeCloseTo(-1.483752, 5);
    // brightness is added before contrast multiplies (fastai's Brightness, then Contrast)
    const reversed = (1 / (1 + Math.exp(-(-1.386294 * 2 + 0.5))) - 0.485) / 0.229;
    expect(Math.abs(lit.data[0] - reversed)).toBeGreaterThan(0.05);
  });

  it('reuses one session for batches of any size, and names the bad image', async () => {
    const spec = augTransforms({ size: 6 });
    const aug = await augmenter(spec, 9, 7);
    const r = new Random(4);
    const images = Array.from({ length: 5 }, () => randomImage(r, 9, 7));
    for (const n of [5, 1, 3]) {
      const p = drawAugmentParams(spec, n, r, { height: 9, width: 7 });
      const out = await aug.run(images.slice(0, n), p);
      expect(out.shape).toEqual([n, 3, 6, 6]);
      expect(maxAbsDiff(out.data, reference(images.slice(0, n), 9, 7, p, spec))).toBeLessThan(1e-4);
    }
    await expect(aug.run([images[0], new Uint8Array(10)], drawAugmentParams(spec, 2, r))).rejects.toThrow(/image 1 has 10 bytes/);
    await expect(aug.run([images[0]], drawAugmentParams(spec, 2, r))).rejects.toThrow(/parameters for 2/);
  });

  it('validation with a smaller output resamples without lighting, and centre-crops for minScale < 1', async () => {
    const spec = augTransforms({ size: 4, minScale: 0.75 });
    const aug = await augmenter(spec, 6, 10);
    const r = new Random(6);
    const images = [randomImage(r, 6, 10), randomImage(r, 6, 10)];
    const v = validParams(2, spec, { height: 6, width: 10 });
    const out = await aug.run(images, v);
    expect(maxAbsDiff(out.data, reference(images, 6, 10, v, spec, false))).toBeLessThan(1e-5);
    // the centred 6×6 square: output corners are source pixels (0, 2) and (5, 7) exactly
    const corner = (img: Uint8Array, x: number, y: number, c: number) => (img[(y * 10 + x) * 3 + c] / 255 - spec.mean[c]) / spec.std[c];
    expect(out.data[0]).toBeCloseTo(corner(images[0], 2, 0, 0), 5);
    expect(out.data[15]).toBeCloseTo(corner(images[0], 7, 5, 0), 5);
  });

  it('(e) with every probability 0 and minScale 1, training output is the plain validation resize', async () => {
    for (const [hIn, wIn, size] of [[12, 10, [8, 6]], [7, 16, [7, 16]], [5, 5, [9, 11]]] as const) {
      const spec = augTransforms({ size: [size[0], size[1]], doFlip: false, flipVert: false, pAffine: 0, pLighting: 0, maxWarp: 0.4, maxRotate: 30, maxLighting: 0.5 });
      const aug = await augmenter(spec, hIn, wIn);
      const r = new Random(hIn);
      const images = [randomImage(r, hIn, wIn), randomImage(r, hIn, wIn), randomImage(r, hIn, wIn)];
      const params = drawAugmentParams(spec, 3, new Random(9), { height: hIn, width: wIn });
      expect(params.draws.every((d) => JSON.stringify(d) === JSON.stringify({ ...neutralDraw(), zoomCentre: d.zoomCentre }))).toBe(true);
      const trained = await aug.run(images, params);
      const valid = await aug.run(images, validParams(3, spec, { height: hIn, width: wIn }));
      expect(trained.shape).toEqual([3, 3, size[0], size[1]]);
      expect(maxAbsDiff(trained.data, valid.data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(trained.data, reference(images, hIn, wIn, validParams(3, spec, { height: hIn, width: wIn }), spec, false))).toBeLessThan(1e-5);
    }
  });
});
