// Image decoding rules shared by every stage that reads pixels: one place decides what "the image"
// is (EXIF orientation applied, 8-bit sRGB, exactly 3 channels), so presize, evaluation and
// submission all see the same pixels fastai's PILImage.create(...).convert('RGB') would.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { BmpError, decodeBmp, isBmp } from './bmp.ts';

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
 * Decode a file (path) or encoded bytes to 8-bit sRGB HWC with 3 channels.
 *
 * - EXIF orientation is applied (all eight values), so width/height are as displayed.
 * - Alpha is DROPPED, not composited — for RGBA, grey+alpha and palette images with a
 *   transparent entry alike: PIL's `convert('RGB')` keeps the colour stored under a transparent
 *   pixel, and fastai trains on that, so a transparent pixel keeps its RGB (sharp
 *   `removeAlpha()`); flattening onto white or black would change what the model sees.
 * - Greyscale (with or without alpha) becomes 3 equal channels; CMYK/YCCK JPEGs and embedded ICC
 *   profiles are converted to sRGB by libvips (PIL would ignore the profile: a deliberate, more
 *   faithful choice).
 * - 16-bit images become 8-bit by libvips' colourspace cast (the high byte, v >> 8: 65535 → 255,
 *   32768 → 128). PIL reads 16-bit RGB the same way but saturates 16-bit greyscale ("I;16" → RGB
 *   clips at 255); we do not copy that bug.
 * - Animated GIF/WebP and multi-page TIFF give their first frame/page.
 * - BMP (which libvips cannot read) is decoded by bmp.ts: 1/4/8/24/32-bit uncompressed.
 * - `failOn: 'truncated'` rejects truncated files but accepts files with harmless warnings (many
 *   camera JPEGs have them). Images over `maxPixels` are refused from the header, undecoded.
 */
export async function decodeImage(input: string | Buffer | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const path = typeof input === 'string' ? input : undefined;
  let bytes: Uint8Array;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch (e) {
    throw new ImageDecodeError(`cannot read the file: ${(e as Error).message}`, 'unreadable', path);
  }
  if (isBmp(bytes)) {
    try {
      return decodeBmp(bytes, maxPixels);
    } catch (e) {
      if (e instanceof BmpError) throw new ImageDecodeError(e.message, /pixel limit/.test(e.message) ? 'too-large' : e.kind, path);
      throw e;
    }
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decodeImage: expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    const message = (e as Error).message.replace(/\s+/g, ' ').trim();
    if (/exceeds pixel limit/i.test(message)) throw new ImageDecodeError(`over the pixel limit ${maxPixels} (${message}); shrink the image or raise maxPixels`, 'too-large', path);
    if (/unsupported image format/i.test(message)) throw new ImageDecodeError(`unsupported image format (${message})`, 'unsupported-format', path);
    const truncated = /premature end|truncat|unexpected end|end of (file|data|stream)|not enough data|short read|out of data/i.test(message);
    throw new ImageDecodeError(message, truncated ? 'truncated' : 'corrupt', path);
  }
}
