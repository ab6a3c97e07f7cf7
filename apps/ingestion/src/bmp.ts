// BMP header check. sharp's bundled libvips has no BMP loader, yet fastai lists .bmp as an image
// extension, so ingestion checks bitmaps itself — a sane header and, for uncompressed ones, a pixel
// array that is all there — to say exactly what is wrong; sound ones are then decoded by
// @paddock/vision's decodeBmp, the decoder presize uses too.
import { readUint32LE } from './sniff.ts';

export type BmpCheck =
  | { ok: true; width: number; height: number; channels: number }
  | { ok: false; kind: 'corrupt' | 'truncated' | 'unsupported-format'; reason: string };

// BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS: the pixel array is stored as is.
const UNCOMPRESSED = new Set([0, 3, 6]);
const COMPRESSION_NAMES: Readonly<Record<number, string>> = { 1: 'RLE8', 2: 'RLE4', 4: 'embedded JPEG', 5: 'embedded PNG' };

export function checkBmp(b: Uint8Array): BmpCheck {
  if (b.length < 26) return { ok: false, kind: 'truncated', reason: `BMP header cut short: the file has ${b.length} bytes` };
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataOffset = readUint32LE(b, 10);
  const headerSize = readUint32LE(b, 14);
  let width: number;
  let height: number;
  let bpp: number;
  let compression = 0;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bpp = view.getUint16(24, true);
  } else {
    if (b.length < 34) return { ok: false, kind: 'truncated', reason: `BMP info header cut short: the file has ${b.length} bytes` };
    width = view.getInt32(18, true);
    // A negative height means rows are stored top-down; the image is |height| tall either way.
    height = Math.abs(view.getInt32(22, true));
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
  }
  if (width <= 0 || height <= 0) return { ok: false, kind: 'corrupt', reason: `BMP header gives a ${width}×${height} image` };
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) return { ok: false, kind: 'corrupt', reason: `BMP header gives ${bpp} bits per pixel` };
  if (!UNCOMPRESSED.has(compression)) {
    const name = COMPRESSION_NAMES[compression] ?? `compression ${compression}`;
    return { ok: false, kind: 'unsupported-format', reason: `${name} bitmaps cannot be decoded (sharp has no BMP loader); convert the file to PNG` };
  }
  // Rows are padded to a multiple of 4 bytes.
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const needed = dataOffset + stride * height;
  if (b.length < needed) {
    return { ok: false, kind: 'truncated', reason: `BMP pixel data cut short: ${width}×${height} at ${bpp} bits needs ${needed} bytes, the file has ${b.length}` };
  }
  return { ok: true, width, height, channels: bpp === 32 ? 4 : 3 };
}
