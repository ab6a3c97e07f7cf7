// PIL's BILINEAR resample in WebAssembly: hand-computed values, PIL's fixed-point arithmetic in
// plain JS (exact), the filter in float64 (±1: PIL rounds after each pass), windows and edge sizes.
import { describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { bilinearCoefficients, resampleBilinear } from '../src/resample.ts';
import type { RgbImage, Window } from '../src/index.ts';

const random = new Random(5);
const noise = (width: number, height: number): RgbImage => ({ data: Uint8Array.from({ length: width * height * 3 }, () => random.int(256)), width, height });
const whole = (image: RgbImage): Window => ({ left: 0, top: 0, width: image.width, height: image.height });

/** PIL's two 8-bit passes (ImagingResampleHorizontal/Vertical_8bpc) in plain JS on the window. */
function pilFixedPoint(image: RgbImage, win: Window, width: number, height: number): Uint8Array {
  const clamp = (sum: number) => Math.min(255, Math.max(0, sum >> 22));
  const across = bilinearCoefficients(win.width, width);
  const down = bilinearCoefficients(win.height, height);
  const mid = new Uint8Array(win.height * width * 3);
  for (let y = 0; y < win.height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 1 << 21;
        for (let i = 0; i < across.bounds[2 * x + 1]; i++) sum += image.data[((win.top + y) * image.width + win.left + across.bounds[2 * x] + i) * 3 + c] * across.weights[x * across.taps + i];
        mid[(y * width + x) * 3 + c] = width === win.width ? image.data[((win.top + y) * image.width + win.left + x) * 3 + c] : clamp(sum);
      }
  if (height === win.height) return mid;
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++)
    for (let b = 0; b < width * 3; b++) {
      let sum = 1 << 21;
      for (let i = 0; i < down.bounds[2 * y + 1]; i++) sum += mid[(down.bounds[2 * y] + i) * width * 3 + b] * down.weights[y * down.taps + i];
      out[y * width * 3 + b] = clamp(sum);
    }
  return out;
}

/** The bilinear filter in float64 (triangle of support max(scale, 1), clipped, renormalised). */
function float64Bilinear(image: RgbImage, width: number, height: number): Float64Array {
  const weights = (inSize: number, outSize: number) =>
    Array.from({ length: outSize }, (_, o) => {
      const scale = inSize / outSize;
      const support = Math.max(scale, 1);
      const centre = (o + 0.5) * scale;
      const w = Array.from({ length: inSize }, (_, i) => Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support)));
      const total = w.reduce((a, b) => a + b, 0);
      return w.map((v) => v / total);
    });
  const across = weights(image.width, width);
  const down = weights(image.height, height);
  const out = new Float64Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let sy = 0; sy < image.height; sy++) {
          if (down[y][sy] === 0) continue;
          for (let sx = 0; sx < image.width; sx++) sum += down[y][sy] * across[x][sx] * image.data[(sy * image.width + sx) * 3 + c];
        }
        out[(y * width + x) * 3 + c] = sum;
      }
  return out;
}

describe('resampleBilinear (PIL BILINEAR)', () => {
  it('gives hand-computed values: a 4-pixel row halved', () => {
    // Output 0: centre 1, support 2 → inputs 0..2 weighted 0.75, 0.75, 0.25 (/1.75): red 71.4,
    // green 7.1, blue 0.7; output 1: centre 3 → inputs 1..3 weighted 0.25, 0.75, 0.75: 209.3,
    // 22.9, 2.3. Rounded to nearest.
    const row: RgbImage = { data: Uint8Array.from([0, 0, 0, 100, 10, 1, 200, 20, 2, 255, 30, 3]), width: 4, height: 1 };
    expect(Array.from(resampleBilinear(row, whole(row), 2, 1).data)).toEqual([71, 7, 1, 209, 23, 2]);
    const { bounds, weights, taps } = bilinearCoefficients(4, 2);
    expect(Array.from(bounds)).toEqual([0, 3, 1, 3]);
    expect(Array.from(weights.subarray(0, 3))).toEqual([1797559, 1797559, 599186]); // 0.75/1.75 and 0.25/1.75 of 2^22
    expect(taps).toBe(5);
  });

  it("equals PIL's fixed-point passes exactly: down, up, mixed, windows inside a larger image", () => {
    const image = noise(97, 61);
    const cases: [Window, number, number][] = [
      [whole(image), 64, 40], // non-integer reductions
      [whole(image), 224, 150], // upscale
      [whole(image), 200, 17], // up across, down the columns
      [{ left: 18, top: 0, width: 61, height: 61 }, 32, 32], // a centre crop window
      [{ left: 3, top: 7, width: 40, height: 30 }, 13, 90],
      [{ left: 5, top: 2, width: 50, height: 50 }, 50, 20], // width unchanged: that pass is skipped
      [{ left: 0, top: 9, width: 97, height: 33 }, 31, 33], // height unchanged
      [{ left: 96, top: 60, width: 1, height: 1 }, 7, 3], // one pixel
      [whole(image), 1, 1],
    ];
    for (const [win, w, h] of cases) {
      const got = resampleBilinear(image, win, w, h);
      expect([got.width, got.height]).toEqual([w, h]);
      expect(Buffer.from(got.data).equals(Buffer.from(pilFixedPoint(image, win, w, h))), `${JSON.stringify(win)} → ${w}×${h}`).toBe(true);
    }
  });

  it('is the bilinear filter to within one level (PIL rounds between its passes)', () => {
    const image = noise(45, 31);
    for (const [w, h] of [[20, 13], [60, 70], [45, 9]]) {
      const want = float64Bilinear(image, w, h);
      const got = resampleBilinear(image, whole(image), w, h).data;
      expect(got.every((v, i) => Math.abs(v - want[i]) <= 1.5), `${w}×${h}`).toBe(true);
    }
  });

  it('returns the whole image at its own size as it is', () => {
    const image = noise(6, 4);
    expect(resampleBilinear(image, whole(image), 6, 4)).toBe(image);
  });

  it('refuses a window that leaves the image, and an output size that is not positive integers', () => {
    const image = noise(10, 8);
    expect(() => resampleBilinear(image, { left: 5, top: 0, width: 6, height: 8 }, 4, 4)).toThrow(RangeError);
    expect(() => resampleBilinear(image, { left: 0, top: -1, width: 10, height: 8 }, 4, 4)).toThrow(/not inside the 10×8 image/);
    expect(() => resampleBilinear(image, whole(image), 0, 4)).toThrow(/positive integers, got 0×4/);
    expect(() => resampleBilinear(image, whole(image), 4, 2.5)).toThrow(RangeError);
  });
});
