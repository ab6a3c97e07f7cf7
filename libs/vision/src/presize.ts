// Item transform "presize": fastai's Resize(size, method, pad_mode) on the CPU, so every image of a
// dataset comes out exactly [h, w, 3] uint8 and can be batched. Geometry follows fastai's
// Resize.encodes + crop_pad (window chosen at the source resolution, padded there, then resized).
import type { Random } from '@paddock/tensor';
import { fastSource } from './fast-codec.ts';
import { orientedSize, readJpegHeader } from './jpeg-header.ts';
import { presizeBaseline, shrinksOnLoad } from './baseline-presize.ts';
import { resampleBilinear } from './resample.ts';
import { DEFAULT_MAX_PIXELS, decodeBytes, decodeError, imageBytes, sharpDecoder, type DecodeOptions, type RgbImage } from './decode.ts';
import { resizeWindow, sizeHW, windowInside, type PadMode, type PresizeSpec, type Window } from './resize-window.ts';

export { resizeWindow, sizeHW, type PadMode, type PresizeSpec, type ResizeMethod, type Window } from './resize-window.ts';

/** Source index for a coordinate outside [0, n) under a pad mode; -1 means "zero pixel". */
function padIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'zeros') return -1;
  if (mode === 'border' || n === 1) return i < 0 ? 0 : n - 1;
  // numpy/torchvision 'reflect' (mirror about the edge pixel, edge not repeated), periodic with
  // period 2(n−1), so a pad wider than the image keeps mirroring (np.pad iterates the same way).
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Cut `win` out of `image`, filling the part outside the image by `mode` (fastai's crop_pad with
 * torchvision's pad modes: zeros = constant 0, border = edge, reflection = reflect). Done on the
 * raw buffer because sharp's extend cannot mirror further than the image is wide.
 */
export function cropPad(image: RgbImage, win: Window, mode: PadMode): RgbImage {
  const { width: w, height: h, data } = image;
  const out = new Uint8Array(win.width * win.height * 3);
  const rowBytes = win.width * 3;
  // Source column per output column, computed once; every row reuses it.
  const colMap = new Int32Array(win.width);
  for (let x = 0; x < win.width; x++) colMap[x] = padIndex(win.left + x, w, mode);
  // The inner span [x0, x1) of output columns maps straight onto source columns: copy it in one go.
  const x0 = Math.min(win.width, Math.max(0, -win.left));
  const x1 = Math.max(x0, Math.min(win.width, w - win.left));
  for (let y = 0; y < win.height; y++) {
    const sy = padIndex(win.top + y, h, mode);
    if (sy < 0) continue; // a zero row
    const src = sy * w * 3;
    const dst = y * rowBytes;
    if (x1 > x0) out.set(data.subarray(src + (win.left + x0) * 3, src + (win.left + x1) * 3), dst + x0 * 3);
    for (let x = 0; x < win.width; x++) {
      if (x === x0) x = x1; // the inner span is already copied
      if (x >= win.width) break;
      const sx = colMap[x];
      if (sx < 0) continue; // a zero pixel
      const s = src + sx * 3;
      const d = dst + x * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { data: out, width: win.width, height: win.height };
}

/**
 * Resize raw RGB to exactly `width`×`height` with PIL's BILINEAR filter (fastai's Resize
 * default), bit for bit: see resample.ts.
 */
export async function resizeRaw(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  return resampleBilinear(image, { left: 0, top: 0, width: image.width, height: image.height }, width, height);
}

/** Where a Resize window sits: (x, y) in [0, 1), as fastai's crop_pad draws it. */
export type Position = 'centre' | Random | readonly [number, number];

/**
 * The (x, y) position percentages a presize uses: [0.5, 0.5] for 'centre' and for squish (which
 * draws nothing), two draws from a Random (train), or the pair given. Separate from presize so a
 * cache can key on the draw, and a test can fix it.
 */
export function positionPcts(spec: PresizeSpec, position: Position): [number, number] {
  if ((spec.method ?? 'crop') === 'squish' || position === 'centre') return [0.5, 0.5];
  if (Array.isArray(position)) return [position[0], position[1]];
  const random = position as Random;
  return [random.next(), random.next()];
}

/** Crop/pad an RGB image to its Resize window at the source resolution, then resize it. */
async function presizeDecoded(image: RgbImage, spec: PresizeSpec, pcts: readonly [number, number]): Promise<RgbImage> {
  const [H, W] = sizeHW(spec.size);
  const win = resizeWindow(image.width, image.height, spec, pcts);
  // A window inside the image is resampled where it lies; one reaching outside is padded first.
  return windowInside(win, image.width, image.height) ? resampleBilinear(image, win, W, H) : resizeRaw(cropPad(image, win, spec.padMode ?? 'reflection'), W, H);
}

/**
 * fastai's Resize as an item transform: decode (when given a path or bytes), choose the window
 * (random position when `position` is a Random — train —, centred for 'centre' — valid — or the
 * given pcts), crop/pad it at the source resolution, then resize to exactly the spec size. Draws
 * two numbers from a Random `position` for crop and pad, none for squish. `options.maxPixels`
 * is the decompression-bomb guard (see decodeImage).
 *
 * The pixels: decodeImage's, resampled as PIL's `crop(window).resize(size, BILINEAR)` does —
 * fastai's Resize exactly, for the same decoded image. One exception, for speed: a JPEG whose
 * whole image is the window (squish, or a crop of its own aspect) and at least twice the target
 * both ways goes through one sharp pipeline, where libjpeg shrinks on load (DCT scaling, far
 * cheaper than a full decode of a large photo; the mean difference is about a level).
 */
export async function presize(input: RgbImage | string | Buffer | Uint8Array, spec: PresizeSpec, position: Position = 'centre', options: DecodeOptions = {}): Promise<RgbImage> {
  const pcts = positionPcts(spec, position);
  if (!(typeof input === 'string' || input instanceof Uint8Array)) return presizeDecoded(input, spec, pcts);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const path = typeof input === 'string' ? input : undefined;
  const bytes = await imageBytes(input);
  const [H, W] = sizeHW(spec.size);
  // The header and a baseline JPEG's segments are read once, here, for every decoder below.
  const jpeg = readJpegHeader(bytes);
  const fast = fastSource(bytes, maxPixels, jpeg);
  const baseline = fast && presizeBaseline(bytes, spec, pcts, maxPixels, fast);
  if (baseline) return { data: baseline, width: W, height: H };
  if (jpeg && jpeg.width * jpeg.height <= maxPixels) {
    const [w, h] = orientedSize(jpeg);
    if (shrinksOnLoad(resizeWindow(w, h, spec, pcts), w, h, W, H)) {
      try {
        return await shrinkOnLoad(bytes, W, H, maxPixels);
      } catch (e) {
        throw decodeError(e, maxPixels, path);
      }
    }
  }
  return presizeDecoded(await decodeBytes(bytes, maxPixels, path, fast), spec, pcts);
}

/** Decode and resize a whole JPEG with one sharp pipeline, letting libjpeg shrink on load. */
async function shrinkOnLoad(bytes: Uint8Array, width: number, height: number, maxPixels: number): Promise<RgbImage> {
  const { data, info } = await sharpDecoder(bytes, maxPixels).rotate().resize(width, height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.byteLength !== width * height * 3) throw new Error(`presize: sharp returned ${data.byteLength} bytes (${info.channels} channels) for ${width}×${height}×3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}
