// Plain JPEGs and 8-bit PNGs, decoded without sharp, whose fixed cost per libvips call weighs as
// much as a 300² decode: baseline JPEGs by our own WebAssembly decoder (jpeg-decoder.ts:
// libjpeg-turbo's pixels exactly, as PIL's), progressive JPEGs and PNGs by
// @napi-rs/image (a prebuilt Rust binding: zune-jpeg and the png crate). Files they are not sure to read
// the way libvips would (CMYK, Adobe-RGB or RGB-id JPEGs, arithmetic coding, 16-bit PNGs, EXIF in
// PNGs, files cut short) stay with sharp. One damage the headers cannot see: a scan cut short and
// closed with an EOI marker anyway, which both decoders accept but fill in differently.
import type { RgbImage } from './decode.ts';
import { decodeBaselineJpeg, readBaselineJpeg, type BaselineJpeg } from './jpeg-decoder.ts';
import { applyOrientation } from './orientation.ts';
import { endsWithEoi, orientedSize, plainColour, readJpegHeader, type JpegHeader } from './jpeg-header.ts';
import { readPngHeader } from './png-header.ts';

// Loaded once; on a platform without a prebuilt binding, sharp decodes all but baseline JPEGs.
const napi = await import('@napi-rs/image').catch(() => undefined);

/** Whether @napi-rs/image loaded on this platform (tests assert it did here). */
export const fastCodecLoaded = napi !== undefined;

/** A file the fast decoder takes, with what its header says. */
export interface FastSource {
  /** As stored, before orientation. */
  width: number;
  height: number;
  /** EXIF orientation 1–8, applied by decodeFast. */
  orientation: number;
  /** A baseline JPEG's segments, for the WebAssembly decoder. */
  baseline?: BaselineJpeg;
}

const BASELINE = 0xc0;
const PROGRESSIVE = 0xc2;

/**
 * The header facts when the fast decoder reads `bytes` exactly as sharp would (up to its IDCT's
 * rounding) and at most `maxPixels` pixels; undefined leaves the file to sharp. `jpeg`: the
 * JPEG header when the caller has read it already.
 * - JPEG: 8-bit baseline or progressive Huffman, grey or YCbCr (component ids other than 'R',
 *   'G', 'B', and an Adobe segment, if any, of transform 1), ending with its EOI marker (a file
 *   cut short is sharp's to refuse).
 * - PNG: 8 bits or fewer per sample, no eXIf chunk, ending with IEND.
 */
export function fastSource(bytes: Uint8Array, maxPixels: number, jpeg = readJpegHeader(bytes)): FastSource | undefined {
  const source = jpeg ? jpegSource(bytes, jpeg) : pngSource(bytes);
  if (!source || source.width * source.height > maxPixels) return undefined;
  return napi || source.baseline ? source : undefined;
}

function jpegSource(bytes: Uint8Array, header: JpegHeader): FastSource | undefined {
  if ((header.frame !== BASELINE && header.frame !== PROGRESSIVE) || !plainColour(header) || !endsWithEoi(bytes)) return undefined;
  const baseline = readBaselineJpeg(bytes);
  return { width: header.width, height: header.height, orientation: header.orientation, ...(baseline && { baseline }) };
}

function pngSource(bytes: Uint8Array): FastSource | undefined {
  const header = readPngHeader(bytes);
  if (!header || header.bitDepth > 8 || header.exif) return undefined;
  return { width: header.width, height: header.height, orientation: 1 };
}

function binding(): NonNullable<typeof napi> {
  if (!napi) throw new Error('@napi-rs/image is not available on this platform');
  return napi;
}

/** Decode a fastSource file to RGB, oriented, alpha dropped (never composited), grey expanded. */
export async function decodeFast(bytes: Uint8Array, source: FastSource): Promise<RgbImage> {
  if (source.baseline) {
    // A baseline JPEG the WebAssembly decoder declines is libjpeg's (sharp's) to read, not zune-jpeg's.
    const stored = decodeBaselineJpeg(bytes, source.baseline);
    if (!stored) throw new Error('left to libjpeg');
    return applyOrientation(stored, source.orientation);
  }
  const transformer = new (binding().Transformer)(bytes);
  if (source.orientation !== 1) transformer.rotate(source.orientation);
  const [width, height] = orientedSize(source);
  return { data: toRgb(await transformer.rawPixels(), width * height), width, height };
}

/** `pixels` samples of 1 (grey), 2 (grey + alpha), 3 or 4 (RGBA) channels as RGB. */
function toRgb(raw: Uint8Array, pixels: number): Uint8Array {
  const channels = raw.length / pixels;
  if (channels === 3) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (channels !== 1 && channels !== 2 && channels !== 4) throw new Error(`@napi-rs/image returned ${raw.length} bytes for ${pixels} pixels`);
  const out = new Uint8Array(pixels * 3);
  const [g, b] = channels === 4 ? [1, 2] : [0, 0]; // grey repeats its one sample
  for (let p = 0, q = 0; q < out.length; p += channels, q += 3) {
    out[q] = raw[p];
    out[q + 1] = raw[p + g];
    out[q + 2] = raw[p + b];
  }
  return out;
}
