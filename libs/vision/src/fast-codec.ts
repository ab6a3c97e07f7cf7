// Plain JPEGs and 8-bit PNGs, decoded without sharp, whose fixed cost per libvips call weighs as
// much as a 300² decode: baseline JPEGs by our own WebAssembly decoder (jpeg-decoder.ts:
// libjpeg-turbo's pixels exactly, as PIL's), progressive JPEGs and PNGs by
// @napi-rs/image (a prebuilt Rust binding: zune-jpeg and the png crate). Files they are not sure to read
// the way libvips would (CMYK, Adobe-RGB or RGB-id JPEGs, arithmetic coding, 16-bit PNGs, EXIF in
// PNGs, files cut short) stay with sharp. One damage the headers cannot see: a scan cut short and
// closed with an EOI marker anyway, which both decoders accept but fill in differently.
import type { RgbImage } from './decode.ts';
import { readFastSource, type FastSource } from './fast-source.ts';
import { decodeBaselineJpeg } from './jpeg-decoder.ts';
import { orientedSize, readJpegHeader } from './jpeg-header.ts';
import { applyOrientation } from './orientation.ts';

export type { FastSource } from './fast-source.ts';

// Loaded once; on a platform without a prebuilt binding, sharp decodes all but baseline JPEGs.
const napi = await import('@napi-rs/image').catch(() => undefined);

/** Whether @napi-rs/image loaded on this platform (tests assert it did here). */
export const fastCodecLoaded = napi !== undefined;

/**
 * readFastSource's answer, when a decoder here can act on it: any file it takes if @napi-rs/image
 * loaded, else only baseline JPEGs (the WebAssembly decoder needs no binding).
 */
export function fastSource(bytes: Uint8Array, maxPixels: number, jpeg = readJpegHeader(bytes)): FastSource | undefined {
  const source = readFastSource(bytes, maxPixels, jpeg);
  return napi || source?.baseline ? source : undefined;
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
