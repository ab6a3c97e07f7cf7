import { describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { augTransforms, composeTheta, drawAugmentParams, neutralDraw, validParams, warpMatrix, type ImageDraw } from '../src/index.ts';

const close = (actual: ArrayLike<number>, expected: number[], eps = 1e-12) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]), `entry ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThan(eps);
};
const draw = (d: Partial<ImageDraw>): ImageDraw => ({ ...neutralDraw(), ...d });
const sq = { height: 4, width: 4 };

describe('augTransforms', () => {
  it("has fastai's aug_transforms defaults", () => {
    expect(augTransforms({ size: 128 })).toEqual({
      size: [128, 128], minScale: 1, doFlip: true, flipVert: false, maxRotate: 10, minZoom: 1, maxZoom: 1.1, maxWarp: 0.2,
      pAffine: 0.75, maxLighting: 0.2, pLighting: 0.75, padMode: 'reflection', alignCorners: true, mode: 'bilinear',
      mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
    });
    expect(augTransforms({ size: [256, 192] }).size).toEqual([256, 192]);
  });

  it('names the field of a bad option', () => {
    expect(() => augTransforms({ size: 64, minScale: 0 })).toThrow(/minScale/);
    expect(() => augTransforms({ size: 64, pAffine: 2 })).toThrow(/pAffine/);
    expect(() => augTransforms({ size: 64, minZoom: 1.2, maxZoom: 1.1 })).toThrow(/minZoom/);
    expect(() => augTransforms({ size: [64, 0] })).toThrow(/size/);
  });
});

describe('composeTheta (output → input, normalised coordinates)', () => {
  it('flip, rotation, zoom and their product, by hand', () => {
    close(composeTheta(draw({ flip: true }), sq), [-1, 0, 0, 0, 1, 0, 0, 0, 1]);
    close(composeTheta(draw({ rotate: 90 }), sq), [0, 1, 0, -1, 0, 0, 0, 0, 1], 1e-15);
    // zoom 2 centred at (col 1, row 0.5): s = 0.5, col_c = (1 − s)(2·1 − 1) = 0.5, row_c = 0.
    close(composeTheta(draw({ zoom: 2, zoomCentre: [1, 0.5] }), sq), [0.5, 0, 0.5, 0, 0.5, 0, 0, 0, 1]);
    // flip · zoom: the flip mirrors the zoom's translation too.
    close(composeTheta(draw({ flip: true, zoom: 2, zoomCentre: [1, 0.5] }), sq), [-0.5, 0, -0.5, 0, 0.5, 0, 0, 0, 1]);
    // flip · rotate(30°) · zoom(1.25, centre (0.25, 0.75)): s = 0.8, t = (−0.1, 0.1).
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    const R = [[-c, -s], [-s, c]]; // F·R
    const expected = [R[0][0] * 0.8, R[0][1] * 0.8, R[0][0] * -0.1 + R[0][1] * 0.1, R[1][0] * 0.8, R[1][1] * 0.8, R[1][0] * -0.1 + R[1][1] * 0.1, 0, 0, 1];
    close(composeTheta(draw({ flip: true, rotate: 30, zoom: 1.25, zoomCentre: [0.25, 0.75] }), sq), expected, 1e-15);
  });

  it("scales the off-diagonals by the input's aspect ratio (fastai _prepare_mat)", () => {
    // 8 wide × 4 tall: m01 · h/w = 0.5, m10 · w/h = −2, so a 90° turn keeps right angles in pixels.
    close(composeTheta(draw({ rotate: 90 }), { height: 4, width: 8 }), [0, 0.5, 0, -2, 0, 0, 0, 0, 1], 1e-15);
  });

  it('maps the output corners onto the corner pixels of a random-resized crop', () => {
    // 10 wide × 8 tall, square crop of side 4 at (top 2, left 1): align_corners → ±1 = pixel centres,
    // so x ∈ [−1, 1] ↦ pixels 1..4 → normalised −1 + 2·1/9 … −1 + 2·4/9.
    const m = composeTheta(draw({ crop: { top: 2, left: 1, size: 4 } }), { height: 8, width: 10 });
    close(m, [3 / 9, 0, -4 / 9, 0, 3 / 7, 0, 0, 0, 1], 1e-15);
    // without align_corners the edges map: x ∈ [−1, 1] ↦ [1, 5] of 10 pixel widths.
    close(composeTheta(draw({ crop: { top: 2, left: 1, size: 4 } }), { height: 8, width: 10 }, false), [0.4, 0, -0.4, 0, 0.5, 0, 0, 0, 1], 1e-15);
  });

  it('solves the warp homography so that it sends the moved corners back to the corners', () => {
    for (const [xt, yt] of [[0.2, -0.1], [-0.15, 0.05], [0.1, 0]]) {
      const h = warpMatrix(xt, yt);
      const targ = [[-1 - yt, -1 - xt], [-1 + yt, 1 + xt], [1 + yt, -1 + xt], [1 - yt, 1 - xt]];
      const orig = [[-1, -1], [-1, 1], [1, -1], [1, 1]];
      targ.forEach(([x, y], i) => {
        const w = h[6] * x + h[7] * y + h[8];
        close([(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w], orig[i], 1e-12);
      });
    }
    close(warpMatrix(0, 0), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });
});

describe('drawAugmentParams', () => {
  const spec = augTransforms({ size: 32, minScale: 0.5 });
  const input = { height: 48, width: 64 };

  it('is reproducible for a seed, varies over seeds and between successive calls', () => {
    const a = drawAugmentParams(spec, 8, new Random(1), input);
    const b = drawAugmentParams(spec, 8, new Random(1), input);
    expect(a).toEqual(b);
    const c = drawAugmentParams(spec, 8, new Random(2), input);
    expect(Array.from(c.theta)).not.toEqual(Array.from(a.theta));
    const r = new Random(1);
    const first = drawAugmentParams(spec, 8, r, input);
    const second = drawAugmentParams(spec, 8, r, input);
    expect(Array.from(second.theta)).not.toEqual(Array.from(first.theta));
  });

  it("draws with fastai's probabilities and ranges", () => {
    const n = 4000;
    const p = drawAugmentParams(spec, n, new Random(5), input);
    const frac = (f: (d: ImageDraw) => boolean) => p.draws.filter(f).length / n;
    expect(frac((d) => d.flip)).toBeCloseTo(0.5, 1);
    expect(frac((d) => d.rotate !== 0)).toBeCloseTo(0.75, 1);
    expect(frac((d) => d.zoom !== 1)).toBeCloseTo(0.75, 1);
    expect(frac((d) => d.warp[0] !== 0)).toBeCloseTo(0.75, 1);
    expect(frac((d) => d.warp[0] !== 0 && d.warp[1] !== 0)).toBeCloseTo(0.5625, 1); // independent coins
    expect(frac((d) => d.brightness !== 0.5)).toBeCloseTo(0.75, 1);
    expect(frac((d) => d.contrast !== 1)).toBeCloseTo(0.75, 1);
    // Range checks collect violations (one expect per draw would dominate the test's time).
    const bad: string[] = [];
    const check = (ok: boolean, what: string) => ok || bad.push(what);
    for (const [i, d] of p.draws.entries()) {
      check(Math.abs(d.rotate) <= 10, `rotate ${d.rotate}`);
      check(d.zoom >= 1 && d.zoom <= 1.1, `zoom ${d.zoom}`);
      check(Math.max(Math.abs(d.warp[0]), Math.abs(d.warp[1])) <= 0.2, `warp ${d.warp}`);
      check(d.brightness >= 0.4 && d.brightness <= 0.6, `brightness ${d.brightness}`);
      check(d.contrast >= 0.8 - 1e-12 && d.contrast <= 1.25 + 1e-12, `contrast ${d.contrast}`);
      check(Math.abs(p.brightness[i] - Math.log(d.brightness / (1 - d.brightness))) < 1e-6, `brightness logit ${i}`);
      check(Math.abs(p.contrast[i] - d.contrast) < 1e-6, `contrast ${i}`);
      // crop: a pixel square inside the image, area fraction in [minScale, 1] up to rounding
      const c = d.crop!;
      check(c.top >= 0 && c.left >= 0 && c.top + c.size <= input.height && c.left + c.size <= input.width, `crop ${JSON.stringify(c)}`);
      check(c.size >= Math.round(Math.sqrt(0.5 * 48 * 64)), `crop side ${c.size}`);
      const m = composeTheta(d, input);
      check(m.every((v, k) => Math.abs(p.theta[i * 9 + k] - v) < 1e-6), `theta ${i}`);
    }
    expect(bad).toEqual([]);
    // the crop side really spreads over its range (not always the fallback square)
    expect(new Set(p.draws.map((d) => d.crop!.size)).size).toBeGreaterThan(5);
    // log-uniform contrast: as many draws above 1 as below
    const applied = p.draws.filter((d) => d.contrast !== 1);
    expect(applied.filter((d) => d.contrast > 1).length / applied.length).toBeCloseTo(0.5, 1);
  });

  it('leaves everything neutral when the probabilities are 0 and minScale is 1', () => {
    const none = augTransforms({ size: 16, doFlip: false, pAffine: 0, pLighting: 0 });
    const p = drawAugmentParams(none, 5, new Random(9));
    for (let i = 0; i < 5; i++) expect(Array.from(p.theta.subarray(i * 9, i * 9 + 9))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(p.contrast)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(p.brightness)).toEqual([0, 0, 0, 0, 0]);
  });

  it("gives validation the identity, or fastai's centred square when minScale < 1", () => {
    const v = validParams(3);
    expect(v.valid).toBe(true);
    expect(Array.from(v.theta)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(v.contrast)).toEqual([1, 1, 1]);
    // 64 wide × 48 tall: centred 48² square at left 8 → x ↦ (47/63)x + (16 + 47)/63 − 1.
    const c = validParams(1, spec, input);
    close(c.theta, [47 / 63, 0, 0, 0, 1, 0, 0, 0, 1], 1e-6);
    expect(Array.from(validParams(1, spec, { height: 40, width: 40 }).theta)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });
});
