// Item transform "presize": fastai's Resize(size, method, pad_mode) on the CPU, so every image of a
// dataset comes out exactly [h, w, 3] uint8 and can be batched. Geometry follows fastai's
// Resize.encodes + crop_pad (window chosen at the source resolution, padded there, then resized).
import sharp from 'sharp';
import type { Random } from '@paddock/tensor';
import { isBmp } from './bmp.ts';
import { readJpegHeader } from './jpeg-header.ts';
import { DEFAULT_MAX_PIXELS, decodeBmpImage, decodeError, decodeImage, imageBytes, sharpDecoder, type DecodeOptions, type RgbImage } from './decode.ts';

export type ResizeMethod = 'squish' | 'crop' | 'pad';
export type PadMode = 'zeros' | 'border' | 'reflection';

export interface PresizeSpec {
  /** Output size: a square side, or [height, width] (fastai's order). */
  size: number | readonly [number, number];
  /** fastai default: 'crop'. */
  method?: ResizeMethod;
  /** fastai default: 'reflection'. Only used by 'pad' (a crop window never leaves the image). */
  padMode?: PadMode;
}

/** [height, width] from a fastai-style size. */
export function sizeHW(size: number | readonly [number, number]): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) throw new RangeError(`size must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}`);
  return [h, w];
}

/** A rectangle in source pixels; it may reach outside the image (then it is padded). */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The source window fastai's Resize crops/pads before resizing, for a source of `width`×`height`.
 * `pcts` = (x, y) position in [0, 1): fastai draws random() twice on train, uses 0.5 on valid.
 * - squish: the whole image;
 * - crop: the largest window with the target aspect ratio that fits inside;
 * - pad: the smallest window with the target aspect ratio that contains the image (so the image
 *   is placed at `pcts` inside it, which is random on train in fastai too).
 */
export function resizeWindow(width: number, height: number, spec: PresizeSpec, pcts: readonly [number, number]): Window {
  const [H, W] = sizeHW(spec.size);
  const method = spec.method ?? 'crop';
  if (method === 'squish') return { left: 0, top: 0, width, height };
  // fastai: m = w/W if op(w/W, h/H) else h/H, op = lt for crop, gt for pad; cp = int(m·W), int(m·H).
  // Integer arithmetic (w·H/W) instead of int((w/W)·H) avoids 299.99999 → 299 rounding surprises.
  const widthRules = method === 'crop' ? width * H < height * W : width * H > height * W;
  const cpW = Math.max(1, widthRules ? width : Math.floor((height * W) / H));
  const cpH = Math.max(1, widthRules ? Math.floor((width * H) / W) : height);
  // fastai: tl = int(pct · (orig − cp)); Python int() truncates toward zero (matters when padding).
  return { left: Math.trunc(pcts[0] * (width - cpW)), top: Math.trunc(pcts[1] * (height - cpH)), width: cpW, height: cpH };
}

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
 * Resize raw RGB to exactly `width`×`height` with sharp's 'linear' kernel: a triangle filter that
 * widens with the reduction factor, like PIL's BILINEAR (fastai's Resize default), rather than the
 * sharper lanczos3 default. Known differences from PIL: libvips extends edge pixels where PIL
 * renormalises the truncated filter (first/last pixel of a downscale differ by a few levels), and
 * libvips' upscale is offset by half an output pixel.
 */
export async function resizeRaw(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const buf = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  if (buf.byteLength !== width * height * 3) throw new Error(`resizeRaw: sharp returned ${buf.byteLength} bytes for ${width}×${height}×3`);
  return { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), width, height };
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
function presizeDecoded(image: RgbImage, spec: PresizeSpec, pcts: readonly [number, number]): Promise<RgbImage> {
  const [H, W] = sizeHW(spec.size);
  const win = resizeWindow(image.width, image.height, spec, pcts);
  const whole = win.left === 0 && win.top === 0 && win.width === image.width && win.height === image.height;
  const region = whole ? image : cropPad(image, win, spec.padMode ?? 'reflection');
  return resizeRaw(region, W, H);
}

/**
 * fastai's Resize as an item transform: decode (when given a path or bytes), choose the window
 * (random position when `position` is a Random — train —, centred for 'centre' — valid — or the
 * given pcts), crop/pad it at the source resolution, then resize to exactly the spec size. Draws
 * two numbers from a Random `position` for crop and pad, none for squish. `options.maxPixels`
 * is the decompression-bomb guard (see decodeImage).
 *
 * Speed: an 8-bit image without alpha whose window lies inside it (every squish and crop) is
 * decoded, oriented, cropped and resized by ONE sharp pipeline after a header read (in JS for
 * JPEGs, jpeg-header.ts; sharp's metadata() for the rest): each sharp
 * call costs a fixed hand-off between threads, which on small images weighs as much as the
 * decode itself. A whole-image window (squish, or a crop of the same aspect) lets libjpeg shrink
 * on load (DCT scaling) when the image is at least twice the target. Images with alpha (sharp
 * would premultiply it while resizing; we drop it first), 16-bit images, pads and BMPs take the
 * decode → cropPad → resize path; both give the same pixels.
 */
export async function presize(input: RgbImage | string | Buffer | Uint8Array, spec: PresizeSpec, position: Position = 'centre', options: DecodeOptions = {}): Promise<RgbImage> {
  const pcts = positionPcts(spec, position);
  if (!(typeof input === 'string' || input instanceof Uint8Array)) return presizeDecoded(input, spec, pcts);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const path = typeof input === 'string' ? input : undefined;
  const bytes = await imageBytes(input);
  if (isBmp(bytes)) return presizeDecoded(decodeBmpImage(bytes, maxPixels, path), spec, pcts);
  const [H, W] = sizeHW(spec.size);
  let data: Buffer;
  try {
    const jpeg = readJpegHeader(bytes);
    const meta = jpeg ? { ...jpeg, hasAlpha: false, depth: 'uchar', pages: 1 } : await sharpDecoder(bytes, maxPixels).metadata();
    const [w, h] = (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
    const win = resizeWindow(w, h, spec, pcts);
    const inside = win.left >= 0 && win.top >= 0 && win.left + win.width <= w && win.top + win.height <= h;
    if (!inside || meta.hasAlpha || meta.depth !== 'uchar' || (meta.pages ?? 1) > 1) return presizeDecoded(await decodeImage(bytes, options), spec, pcts);
    const whole = win.width === w && win.height === h;
    const oriented = sharpDecoder(bytes, maxPixels).rotate();
    const pipeline = whole ? oriented : oriented.extract(win);
    const out = await pipeline.resize(W, H, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (out.info.channels !== 3) throw new Error(`presize: expected 3 channels after conversion, got ${out.info.channels}`);
    data = out.data;
  } catch (e) {
    throw decodeError(e, maxPixels, path);
  }
  if (data.byteLength !== W * H * 3) throw new Error(`presize: sharp returned ${data.byteLength} bytes for ${W}×${H}×3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: W, height: H };
}
