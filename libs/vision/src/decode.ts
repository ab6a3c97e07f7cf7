// Image decoding rules shared by every stage that reads pixels: one place decides what "the image"
// is (EXIF orientation applied, 8-bit sRGB, exactly 3 channels), so presize, evaluation and
// submission all see the same pixels fastai's PILImage.create(...).convert('RGB') would.
import { readFileSync } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { BmpError, decodeBmp, isBmp } from './bmp.ts';
import { decodeFast, fastSource } from './fast-codec.ts';

/** An 8-bit RGB image, row-major HWC (`data.length === height * width * 3`). */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** PIL's Image.MAX_IMAGE_PIXELS: the default decompression-bomb limit. */
export const DEFAULT_MAX_PIXELS = 178956970;

export interface DecodeOptions {
  /** Refuse images with more pixels than this before decoding them (decompression bombs). */
  maxPixels?: number;
}

/** Why a file could not be decoded; kind matches ingestion's audit kinds. */
export class ImageDecodeError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly kind: 'too-large' | 'truncated' | 'corrupt' | 'unsupported-format' | 'unreadable',
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ImageDecodeError';
  }
}

/**
 * The bytes of a file (path) or the bytes given; an unreadable path is an ImageDecodeError. Read
 * synchronously: an async read's four thread-pool hand-offs (open, stat, read, close) cost 0.25 ms
 * of CPU per file, against 0.02–0.05 ms for a small file in the page cache — a sixth of a fast
 * decode and resize.
 */
export async function imageBytes(input: string | Buffer | Uint8Array): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  try {
    return readFileSync(input);
  } catch (e) {
    throw new ImageDecodeError(`cannot read the file: ${(e as Error).message}`, 'unreadable', input);
  }
}

/**
 * A sharp pipeline over encoded bytes with the decode rules every reader shares: the pixel guard,
 * `failOn: 'truncated'`, and embedded ICC profiles ignored (PIL's behaviour, so the pixels are
 * the ones fastai trains on; converting them cost 3× the decode time on ants-bees' photos).
 */
export function sharpDecoder(bytes: Uint8Array, maxPixels: number): Sharp {
  return sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels, ignoreIcc: true });
}

/** A sharp/libvips failure as an ImageDecodeError of the matching kind. */
export function decodeError(e: unknown, maxPixels: number, path?: string): ImageDecodeError {
  if (e instanceof ImageDecodeError) return e;
  const message = (e as Error).message.replace(/\s+/g, ' ').trim();
  if (/exceeds pixel limit/i.test(message)) return new ImageDecodeError(`over the pixel limit ${maxPixels} (${message}); shrink the image or raise maxPixels`, 'too-large', path);
  if (/unsupported image format/i.test(message)) return new ImageDecodeError(`unsupported image format (${message})`, 'unsupported-format', path);
  const truncated = /premature end|truncat|unexpected end|end of (file|data|stream)|not enough data|short read|out of data/i.test(message);
  return new ImageDecodeError(message, truncated ? 'truncated' : 'corrupt', path);
}

/** BMP bytes decoded by bmp.ts, its errors as ImageDecodeErrors. */
export function decodeBmpImage(bytes: Uint8Array, maxPixels: number, path?: string): RgbImage {
  try {
    return decodeBmp(bytes, maxPixels);
  } catch (e) {
    if (e instanceof BmpError) throw new ImageDecodeError(e.message, /pixel limit/.test(e.message) ? 'too-large' : e.kind, path);
    throw e;
  }
}

/**
 * Decode a file (path) or encoded bytes to 8-bit sRGB HWC with 3 channels.
 *
 * - Baseline JPEGs (grey or YCbCr) are read by our WebAssembly decoder, to libjpeg-turbo's (sharp's
 *   and PIL's) pixels exactly; progressive JPEGs and PNGs of up to 8 bits by @napi-rs/image, whose
 *   IDCT rounds differently from libjpeg-turbo's by a few levels at most (fast-codec.ts);
 *   everything else by sharp. All follow the rules below.
 * - EXIF orientation is applied (all eight values), so width/height are as displayed.
 * - Alpha is DROPPED, not composited — for RGBA, grey+alpha and palette images with a
 *   transparent entry alike: PIL's `convert('RGB')` keeps the colour stored under a transparent
 *   pixel, and fastai trains on that, so a transparent pixel keeps its RGB (sharp
 *   `removeAlpha()`); flattening onto white or black would change what the model sees.
 * - Greyscale (with or without alpha) becomes 3 equal channels. CMYK and YCCK (Adobe) JPEGs are
 *   converted to sRGB by libvips through its built-in CMYK profile (Adobe-inverted CMYK is read
 *   as such; libjpeg turns YCCK into CMYK first). PIL's convert('RGB') uses the naive
 *   255 − c − k instead: M+Y ink is (232, 0, 21) here, (255, 0, 0) in PIL.
 * - Embedded ICC profiles are IGNORED, as PIL's `convert('RGB')` ignores them: the stored RGB
 *   values are used as they are, so the model sees what fastai's would (and decoding is 3× faster
 *   on photos that carry a profile).
 * - 16-bit images become 8-bit by libvips' colourspace cast (the high byte, v >> 8: 65535 → 255,
 *   32768 → 128). PIL reads 16-bit RGB the same way but saturates 16-bit greyscale ("I;16" → RGB
 *   clips at 255); we do not copy that bug.
 * - Animated GIF/WebP and multi-page TIFF give their first frame/page.
 * - BMP (which libvips cannot read) is decoded by bmp.ts: 1/4/8/24/32-bit uncompressed.
 * - `failOn: 'truncated'` rejects truncated files but accepts files with harmless warnings (many
 *   camera JPEGs have them). Images over `maxPixels` are refused from the header, undecoded.
 */
export async function decodeImage(input: string | Buffer | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  return decodeBytes(await imageBytes(input), options.maxPixels ?? DEFAULT_MAX_PIXELS, typeof input === 'string' ? input : undefined);
}

/** decodeImage for bytes already read; `path` names the file in errors, `fast` is fastSource's
 *  answer when the caller has it. */
export async function decodeBytes(bytes: Uint8Array, maxPixels: number, path?: string, fast = fastSource(bytes, maxPixels)): Promise<RgbImage> {
  if (isBmp(bytes)) return decodeBmpImage(bytes, maxPixels, path);
  if (fast) {
    try {
      return await decodeFast(bytes, fast);
    } catch {
      // sharp decides: it decodes what the fast decoder refused, or names the damage.
    }
  }
  try {
    const { data, info } = await sharpDecoder(bytes, maxPixels)
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decodeImage: expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    throw decodeError(e, maxPixels, path);
  }
}
