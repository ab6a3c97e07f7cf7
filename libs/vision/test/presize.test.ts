import { rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { cropPad, decodeImage, presize, resizeWindow, type PadMode, type PresizeSpec, type RgbImage } from '../src/index.ts';
import { BLUE, RED, isBlue, isRed, pixel, pngFile, rgb, tmp } from './images.ts';

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Independent reference for a padded read: bounce off the edges until inside (no modular maths). */
function refIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'zeros') return -1;
  if (mode === 'border') return Math.min(n - 1, Math.max(0, i));
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

function refCropPad(img: RgbImage, left: number, top: number, width: number, height: number, mode: PadMode): number[] {
  const out: number[] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const sx = refIndex(left + x, img.width, mode);
      const sy = refIndex(top + y, img.height, mode);
      out.push(...(sx < 0 || sy < 0 ? [0, 0, 0] : pixel(img, sx, sy)));
    }
  return out;
}

/** Every pixel distinct, so a wrong source index cannot go unnoticed. */
const distinct = (width: number, height: number): RgbImage => ({ width, height, data: rgb(width, height, (x, y) => [1 + x * 20, 1 + y * 20, 1 + ((x * 7 + y * 13) % 250)]) });

describe('resizeWindow (fastai Resize geometry)', () => {
  it('matches hand-computed fastai windows', () => {
    // 640×480 crop to 128²: m = min(640/128, 480/128) = 3.75 → 480×480 at left int(0.5·160) = 80.
    expect(resizeWindow(640, 480, { size: 128, method: 'crop' }, [0.5, 0.5])).toEqual({ left: 80, top: 0, width: 480, height: 480 });
    // pad: m = max(…) = 5 → 640×640, top int(0.5·(480 − 640)) = −80.
    expect(resizeWindow(640, 480, { size: 128, method: 'pad' }, [0.5, 0.5])).toEqual({ left: 0, top: -80, width: 640, height: 640 });
    // pad to (h 480, w 360): width rules, cp = (640, int(640·480/360) = 853), top = int(−186.5) = −186.
    expect(resizeWindow(640, 480, { size: [480, 360], method: 'pad' }, [0.5, 0.5])).toEqual({ left: 0, top: -186, width: 640, height: 853 });
    // random position: left = int(0.999·(640 − 480)) = 159
    expect(resizeWindow(640, 480, { size: 128 }, [0.999, 0.3])).toEqual({ left: 159, top: 0, width: 480, height: 480 });
    expect(resizeWindow(640, 480, { size: 128, method: 'squish' }, [0.9, 0.9])).toEqual({ left: 0, top: 0, width: 640, height: 480 });
  });
});

describe('presize', () => {
  const shapes: [string, number, number][] = [
    ['wide', 300, 40],
    ['tall', 40, 300],
    ['tiny', 5, 5],
    ['very wide', 2000, 3],
    ['very tall', 3, 2000],
    ['one-pixel', 1, 1],
    ['odd', 999, 1000],
  ];
  const specs: PresizeSpec[] = [
    { size: 64, method: 'squish' },
    { size: 64, method: 'crop' },
    { size: 64, method: 'pad', padMode: 'zeros' },
    { size: 64, method: 'pad', padMode: 'border' },
    { size: 64, method: 'pad', padMode: 'reflection' },
    { size: [48, 80], method: 'crop' },
    { size: [48, 80], method: 'pad', padMode: 'reflection' },
    { size: [80, 48], method: 'squish' },
    { size: [97, 61], method: 'crop' },
    { size: [97, 61], method: 'pad', padMode: 'zeros' },
    { size: 224, method: 'crop' },
  ];
  for (const [name, w, h] of shapes) {
    it(`gives exactly the spec size for a ${name} ${w}×${h} image, every method`, async () => {
      const path = await pngFile(`${name}.png`, w, h, 3, distinct(w, h).data);
      for (const spec of specs) {
        const [H, W] = typeof spec.size === 'number' ? [spec.size, spec.size] : spec.size;
        for (const position of ['centre', new Random(3)] as const) {
          const out = await presize(path, spec, position);
          expect([out.width, out.height, out.data.length], `${JSON.stringify(spec)}`).toEqual([W, H, W * H * 3]);
        }
      }
    });
  }

  it('crops the centre on validation (both halves of a 2:1 image) and a random square on train', async () => {
    const img: RgbImage = { width: 200, height: 100, data: rgb(200, 100, (x) => (x < 100 ? RED : BLUE)) };
    const centre = await presize(img, { size: 50, method: 'crop' }, 'centre');
    expect(isRed(pixel(centre, 3, 25))).toBe(true);
    expect(isBlue(pixel(centre, 46, 25))).toBe(true);

    const redCount = (out: RgbImage) => {
      let n = 0;
      for (let x = 0; x < out.width; x++) if (isRed(pixel(out, x, 25))) n++;
      return n;
    };
    const a = await presize(img, { size: 50 }, new Random(7));
    const b = await presize(img, { size: 50 }, new Random(7));
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    const counts = new Set<number>();
    for (let seed = 0; seed < 12; seed++) counts.add(redCount(await presize(img, { size: 50 }, new Random(seed))));
    expect(counts.size).toBeGreaterThan(5);
    // The window is drawn with two next() calls, x first: left = int(u·(200 − 100)).
    const r = new Random(7);
    const left = Math.trunc(r.next() * 100);
    expect(redCount(a)).toBeCloseTo(Math.max(0, 100 - left) / 2, -0.5);
  });

  for (const mode of ['zeros', 'border', 'reflection'] as const) {
    it(`pads with ${mode} pixel-for-pixel like the reference, including pads wider than the image`, async () => {
      const img = distinct(3, 2);
      // Target aspect needs a 13-wide window around a 3-wide image: 5 columns on the left, 5 right.
      const wide = await presize(img, { size: [2, 13], method: 'pad', padMode: mode }, 'centre');
      expect(Array.from(wide.data)).toEqual(refCropPad(img, -5, 0, 13, 2, mode));
      // A 2-row image padded to 12 rows (top −5): reflection alternates rows.
      const tall = await presize(img, { size: [12, 3], method: 'pad', padMode: mode }, 'centre');
      expect(Array.from(tall.data)).toEqual(refCropPad(img, 0, -5, 3, 12, mode));
      // Both axes outside at once, through cropPad directly; plus a one-pixel-wide source.
      expect(Array.from(cropPad(img, { left: -7, top: -4, width: 17, height: 11 }, mode).data)).toEqual(refCropPad(img, -7, -4, 17, 11, mode));
      const thin = distinct(1, 4);
      expect(Array.from(cropPad(thin, { left: -2, top: -1, width: 5, height: 6 }, mode).data)).toEqual(refCropPad(thin, -2, -1, 5, 6, mode));
    });
  }

  it('reflects a 2×1 and a 1×1 image into a window many times wider, through presize', async () => {
    for (const [w, h] of [[2, 1], [1, 1], [3, 1]] as const) {
      const img = distinct(w, h);
      const target = 40 * w + 1;
      const out = await presize(img, { size: [h, target], method: 'pad', padMode: 'reflection' }, 'centre');
      expect([out.width, out.height]).toEqual([target, h]);
      const left = Math.trunc(0.5 * (w - target));
      expect(Array.from(out.data)).toEqual(refCropPad(img, left, 0, target, h, 'reflection'));
    }
  });

  it('places the image at a random position inside the padding on train, reproducibly', async () => {
    const img = distinct(3, 2);
    const spec: PresizeSpec = { size: [2, 13], method: 'pad', padMode: 'zeros' };
    const r = new Random(11);
    const left = Math.trunc(r.next() * (3 - 13));
    const out = await presize(img, spec, new Random(11));
    expect(Array.from(out.data)).toEqual(refCropPad(img, left, 0, 13, 2, 'zeros'));
    const lefts = new Set<string>();
    for (let seed = 0; seed < 10; seed++) lefts.add(Buffer.from((await presize(img, spec, new Random(seed))).data).toString('hex'));
    expect(lefts.size).toBeGreaterThan(3);
  });

  it('resizes a squish with a bilinear-like kernel (a flat image stays flat, a ramp stays monotone)', async () => {
    const flat: RgbImage = { width: 30, height: 20, data: rgb(30, 20, () => [90, 140, 200]) };
    const out = await presize(flat, { size: 7, method: 'squish' });
    expect(new Set(Array.from(out.data)).size).toBe(3);
    expect(pixel(out, 3, 3)).toEqual([90, 140, 200]);
    const ramp: RgbImage = { width: 64, height: 4, data: rgb(64, 4, (x) => [x * 4, x * 4, x * 4]) };
    const small = await presize(ramp, { size: [4, 16], method: 'squish' });
    const row = Array.from({ length: 16 }, (_, x) => pixel(small, x, 1)[0]);
    for (let x = 1; x < 16; x++) expect(row[x]).toBeGreaterThan(row[x - 1]);
    // Interior pixels average 4 source columns around their centre: 4·(4x + 1.5) = 16x + 6.
    for (let x = 2; x < 14; x++) expect(Math.abs(row[x] - (16 * x + 6))).toBeLessThanOrEqual(1);
  });
});

// presize(path) decodes and resamples the window where it lies, or shrinks a large JPEG on load
// in one sharp pipeline; the same Resize of the decoded image (presize(RgbImage)) is the reference.
describe('presize from a file: the same pixels as from its decoded image', () => {
  /** A photo-like texture: smooth gradients plus a fine pattern, so resampling differences show. */
  const texture = (w: number, h: number) => rgb(w, h, (x, y) => [(x * 3 + ((x * y) % 17)) & 255, (y * 2 + ((x ^ y) & 15)) & 255, (128 + 100 * Math.sin(x / 9) * Math.cos(y / 7)) | 0]);
  const jpeg = async (name: string, w: number, h: number) => {
    const path = join(tmp, name);
    await sharp(texture(w, h), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 92 }).toFile(path);
    return path;
  };
  const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;

  it('equals presize of the decoded image exactly when no shrink-on-load applies', async () => {
    const path = await jpeg('photo.jpg', 320, 200);
    const decoded = await decodeImage(path);
    const specs: PresizeSpec[] = [{ size: 224, method: 'crop' }, { size: 150, method: 'squish' }, { size: [90, 60], method: 'crop' }, { size: 480, method: 'squish' }, { size: 100, method: 'crop' }];
    for (const spec of specs)
      for (const pcts of [[0.5, 0.5], [0.1, 0.9], [0.97, 0.03]] as [number, number][]) {
        const got = await presize(path, spec, pcts);
        const want = await presize(decoded, spec, pcts);
        expect([got.width, got.height]).toEqual([want.width, want.height]);
        expect(Buffer.from(got.data).equals(Buffer.from(want.data)), `${JSON.stringify(spec)} at ${pcts}`).toBe(true);
      }
  });

  it('keeps the RGB under transparent pixels while resizing (alpha dropped first, never premultiplied)', async () => {
    // Left half red at alpha 0, right half blue at alpha 255: premultiplied resizing would blacken the left.
    const rgba = new Uint8Array(40 * 20 * 4);
    for (let i = 0; i < 40 * 20; i++) rgba.set((i % 40) < 20 ? [220, 20, 20, 0] : [20, 20, 220, 255], i * 4);
    const path = await pngFile('transparent.png', 40, 20, 4, rgba);
    const out = await presize(path, { size: [10, 20], method: 'squish' });
    expect(pixel(out, 2, 5)).toEqual([220, 20, 20]);
    expect(pixel(out, 17, 5)).toEqual([20, 20, 220]);
  });

  it('shrinks large JPEGs on load (DCT scaling) with a mean difference under 1.5 levels from a full decode', async () => {
    const path = await jpeg('large.jpg', 1600, 1200);
    const decoded = await decodeImage(path);
    for (const spec of [{ size: [150, 200], method: 'squish' }, { size: 96, method: 'squish' }] as PresizeSpec[]) {
      const got = await presize(path, spec);
      const want = await presize(decoded, spec);
      expect([got.width, got.height]).toEqual([want.width, want.height]);
      const diff = meanAbsDiff(got.data, want.data);
      expect(diff, JSON.stringify(spec)).toBeLessThan(1.5);
      expect(diff, `${JSON.stringify(spec)}: shrink-on-load should have engaged`).toBeGreaterThan(0);
    }
  });
});
