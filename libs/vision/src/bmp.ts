// BMP decoding. sharp's bundled libvips has no BMP loader, yet fastai lists .bmp among image
// extensions and PIL reads them, so the common uncompressed kinds are decoded here: 24-bit and
// 32-bit BI_RGB / BI_BITFIELDS, and 1/4/8-bit palette images. Compressed bitmaps (RLE, embedded
// JPEG/PNG) and 16-bit ones are refused with a BmpError that says so.

export class BmpError extends Error {
  constructor(
    message: string,
    readonly kind: 'truncated' | 'corrupt' | 'unsupported-format',
  ) {
    super(message);
    this.name = 'BmpError';
  }
}

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
  /** Rows stored top-down (negative height in the header). */
  topDown: boolean;
  dataOffset: number;
  headerSize: number;
  /** Palette entries (0 = the maximum for the bit depth). */
  colorsUsed: number;
}

const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const u16 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const i32 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

export function isBmp(b: Uint8Array): boolean {
  return b.length >= 18 && b[0] === 0x42 && b[1] === 0x4d && [12, 16, 40, 52, 56, 64, 108, 124].includes(u32(b, 14));
}

export function readBmpHeader(b: Uint8Array): BmpHeader {
  if (b.length < 26) throw new BmpError(`BMP header cut short: the file has ${b.length} bytes`, 'truncated');
  const headerSize = u32(b, 14);
  const dataOffset = u32(b, 10);
  if (headerSize === 12) {
    return { width: u16(b, 18), height: u16(b, 20), bitsPerPixel: u16(b, 24), compression: 0, topDown: false, dataOffset, headerSize, colorsUsed: 0 };
  }
  if (b.length < 50) throw new BmpError(`BMP info header cut short: the file has ${b.length} bytes`, 'truncated');
  const h = i32(b, 22);
  return { width: i32(b, 18), height: Math.abs(h), bitsPerPixel: u16(b, 28), compression: u32(b, 30), topDown: h < 0, dataOffset, headerSize, colorsUsed: u32(b, 46) };
}

/** Decode to 8-bit RGB HWC. Alpha of 32-bit bitmaps is dropped, as for every other format. */
export function decodeBmp(b: Uint8Array, maxPixels = Infinity): { data: Uint8Array; width: number; height: number } {
  const hd = readBmpHeader(b);
  const { width, height, bitsPerPixel: bpp, compression } = hd;
  if (width <= 0 || height <= 0) throw new BmpError(`BMP header gives a ${width}×${height} image`, 'corrupt');
  if (width * height > maxPixels) throw new BmpError(`${width}×${height} = ${width * height} pixels is over the pixel limit ${maxPixels}`, 'corrupt');
  const bitfields = compression === 3 || compression === 6;
  if (!(compression === 0 || (bitfields && bpp === 32))) {
    const name = ({ 1: 'RLE8', 2: 'RLE4', 4: 'embedded JPEG', 5: 'embedded PNG', 3: `${bpp}-bit BI_BITFIELDS` } as Record<number, string>)[compression] ?? `compression ${compression}`;
    throw new BmpError(`${name} bitmaps are not supported; convert the file to PNG`, 'unsupported-format');
  }
  if (![1, 4, 8, 24, 32].includes(bpp)) {
    throw new BmpError(bpp === 16 ? '16-bit bitmaps are not supported; convert the file to PNG' : `BMP header gives ${bpp} bits per pixel`, bpp === 16 ? 'unsupported-format' : 'corrupt');
  }
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const needed = hd.dataOffset + stride * height;
  if (b.length < needed) throw new BmpError(`BMP pixel data cut short: ${width}×${height} at ${bpp} bits needs ${needed} bytes, the file has ${b.length}`, 'truncated');
  // Channel masks of 32-bit bitfield images (V3+ headers carry them after the info header).
  let shifts = [16, 8, 0];
  if (bitfields) {
    const at = hd.headerSize >= 52 ? 54 : 14 + hd.headerSize;
    const masks = [u32(b, at), u32(b, at + 4), u32(b, at + 8)];
    if (masks.some((m) => m === 0 || (m >>> (31 - Math.clz32(m) - 7)) !== 0xff)) throw new BmpError(`32-bit BMP with channel masks ${masks.map((m) => m.toString(16)).join('/')} is not supported`, 'unsupported-format');
    shifts = masks.map((m) => 31 - Math.clz32(m) - 7);
  }
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const entry = hd.headerSize === 12 ? 3 : 4;
    const count = hd.colorsUsed || 1 << bpp;
    const start = 14 + hd.headerSize;
    if (start + count * entry > hd.dataOffset) throw new BmpError(`BMP palette of ${count} colours overlaps the pixel data`, 'corrupt');
    palette = new Uint8Array(256 * 3);
    for (let k = 0; k < count; k++) palette.set([b[start + k * entry + 2], b[start + k * entry + 1], b[start + k * entry]], k * 3);
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = hd.dataOffset + (hd.topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    if (bpp === 24) {
      for (let x = 0; x < width; x++, o += 3) {
        const s = row + x * 3;
        out[o] = b[s + 2];
        out[o + 1] = b[s + 1];
        out[o + 2] = b[s];
      }
    } else if (bpp === 32) {
      for (let x = 0; x < width; x++, o += 3) {
        const v = u32(b, row + x * 4);
        out[o] = (v >>> shifts[0]) & 0xff;
        out[o + 1] = (v >>> shifts[1]) & 0xff;
        out[o + 2] = (v >>> shifts[2]) & 0xff;
      }
    } else {
      const perByte = 8 / bpp;
      const mask = (1 << bpp) - 1;
      for (let x = 0; x < width; x++, o += 3) {
        const byte = b[row + Math.floor(x / perByte)];
        const index = (byte >> (8 - bpp * ((x % perByte) + 1))) & mask;
        out.set(palette!.subarray(index * 3, index * 3 + 3), o);
      }
    }
  }
  return { data: out, width, height };
}
