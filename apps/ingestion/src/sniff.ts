// Image formats: which file names count as images (fastai's extension list) and what a file's
// bytes actually are (magic numbers). Ingestion trusts the bytes, so a PNG named .jpg is still
// used, and reports the disagreement.

/** fastai's image extensions (get_image_files), compared case-insensitively. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.bmp', '.gif', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp'];

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif' | 'heif';

// Extensions that name the same format family: .jpg/.jpeg and .tif/.tiff are not mismatches.
const FAMILY: Readonly<Record<string, ImageFormat>> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.png': 'png',
  '.gif': 'gif',
  '.webp': 'webp',
  '.bmp': 'bmp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
};

/** The lower-cased extension including the dot ("" when there is none; ".hidden" has none). */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

export function hasImageExtension(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extensionOf(name));
}

/** The format an image extension promises, or undefined for a non-image extension. */
export function formatOfExtension(ext: string): ImageFormat | undefined {
  return FAMILY[ext.toLowerCase()];
}

// ISO-BMFF brands (bytes 8..12 of an ftyp box) of AVIF and of HEIF/HEIC still images.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);
// BMP info-header sizes (BITMAPCOREHEADER … BITMAPV5HEADER); checking one makes "BM" followed by
// text unlikely to pass as a bitmap.
const BMP_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

/** The image format the bytes start with, or undefined when they match none we know. */
export function sniffFormat(b: Uint8Array): ImageFormat | undefined {
  const at = (i: number, ...bytes: number[]) => bytes.every((v, k) => b[i + k] === v);
  const ascii = (i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));
  if (b.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (b.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'webp';
  // Classic TIFF has 42 after the byte-order mark, BigTIFF 43.
  if (b.length >= 4 && (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a) || at(0, 0x49, 0x49, 0x2b, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2b))) return 'tiff';
  if (b.length >= 18 && ascii(0, 2) === 'BM' && BMP_HEADER_SIZES.has(readUint32LE(b, 14))) return 'bmp';
  if (b.length >= 12 && ascii(4, 4) === 'ftyp') {
    const boxEnd = Math.min(b.length, Math.max(16, readUint32BE(b, 0)));
    const brands = [ascii(8, 4)];
    for (let i = 16; i + 4 <= boxEnd; i += 4) brands.push(ascii(i, 4));
    if (brands.some((x) => AVIF_BRANDS.has(x))) return 'avif';
    if (brands.some((x) => HEIF_BRANDS.has(x))) return 'heif';
  }
  return undefined;
}

export function readUint32LE(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

function readUint32BE(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}
