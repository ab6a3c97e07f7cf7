// EXIF orientation applied to decoded pixels, for the decoder that does not do it itself (the
// WebAssembly JPEG decoder returns the image as stored).
import type { RgbImage } from './decode.ts';

/**
 * `image` (as stored) as displayed under EXIF orientation 1–8: 2 mirrors, 3 turns half round, 4
 * flips, 5 transposes, 6 turns a quarter clockwise, 7 transverses, 8 turns a quarter anticlockwise
 * (5–8 swap width and height). Each output pixel reads stored pixel base + x·dx + y·dy.
 */
export function applyOrientation(image: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h, data } = image;
  const last = w * h - 1;
  const steps: Record<number, [base: number, dx: number, dy: number]> = {
    2: [w - 1, -1, w],
    3: [last, -1, -w],
    4: [(h - 1) * w, 1, -w],
    5: [0, w, 1],
    6: [(h - 1) * w, -w, 1],
    7: [last, -w, -1],
    8: [w - 1, w, -1],
  };
  if (!steps[orientation]) throw new RangeError(`EXIF orientation must be 1–8, got ${orientation}`);
  const [base, dx, dy] = steps[orientation];
  const [width, height] = orientation >= 5 ? [h, w] : [w, h];
  const out = new Uint8Array(data.length);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0, s = base + y * dy; x < width; x++, s += dx, o += 3) {
      out[o] = data[s * 3];
      out[o + 1] = data[s * 3 + 1];
      out[o + 2] = data[s * 3 + 2];
    }
  }
  return { data: out, width, height };
}
