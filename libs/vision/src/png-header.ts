// A PNG's size and bit depth read from its chunks in JS, so decoding can pick a decoder without
// a libvips call. Anything unusual returns undefined, and the caller leaves the file to sharp.

export interface PngHeader {
  width: number;
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** An eXIf chunk is present (it may carry an orientation, which libvips applies). */
  exif: boolean;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/**
 * The IHDR of a PNG whose chunks all fit the file and end with IEND, or undefined when the bytes
 * are not a PNG, are cut short, or do not start with IHDR. The chunk lengths are walked, not the
 * CRCs checked: a damaged chunk is the decoder's to report.
 */
export function readPngHeader(bytes: Uint8Array): PngHeader | undefined {
  if (bytes.length < 8 + 25 + 12 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const u32 = (i: number) => bytes[i] * 0x1000000 + ((bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]);
  const type = (i: number) => String.fromCharCode(bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]);
  if (u32(8) !== 13 || type(12) !== 'IHDR') return undefined;
  const header: PngHeader = { width: u32(16), height: u32(20), bitDepth: bytes[24], exif: false };
  // Walk every chunk: a file cut short loses IEND, which libvips reports as truncated.
  for (let i = 8; i + 12 <= bytes.length; ) {
    const end = i + 12 + u32(i);
    if (end > bytes.length) return undefined;
    const name = type(i + 4);
    if (name === 'eXIf') header.exif = true;
    if (name === 'IEND') return end === bytes.length && header.width > 0 && header.height > 0 ? header : undefined;
    i = end;
  }
  return undefined;
}
