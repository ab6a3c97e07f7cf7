// Perceptual difference hash (dHash) for near-duplicate detection: the image shrunk to a 9×8 grey
// thumbnail, one bit per horizontally adjacent pair (left brighter than right). Re-encodes,
// resizes and small colour changes move few of the 64 bits; different pictures differ in ~32.
// A nearly flat thumbnail has no such stable bits (its comparisons are decided by noise), so it
// gets no hash at all rather than one that matches every other flat image by chance.
import sharp from 'sharp';

export interface RawPixels {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA); default 3. */
  readonly channels?: number;
}

/** Grey levels (of 255) the 9×8 thumbnail must span for its dHash to mean anything. */
export const DHASH_MIN_CONTRAST = 12;

/**
 * The 64-bit dHash as 16 lower-case hex digits (row-major bits, most significant first), or
 * undefined for a featureless image (thumbnail spanning fewer than DHASH_MIN_CONTRAST levels).
 */
export async function dHash(image: RawPixels): Promise<string | undefined> {
  const channels = (image.channels ?? 3) as 1 | 2 | 3 | 4;
  let s = sharp(image.data, { raw: { width: image.width, height: image.height, channels } });
  if (channels === 2 || channels === 4) s = s.removeAlpha();
  const thumb = await s.greyscale().resize(9, 8, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  let lo = 255;
  let hi = 0;
  for (const v of thumb) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi - lo < DHASH_MIN_CONTRAST) return undefined;
  let hex = '';
  for (let y = 0; y < 8; y++) {
    let byte = 0;
    for (let x = 0; x < 8; x++) byte = (byte << 1) | (thumb[y * 9 + x] > thumb[y * 9 + x + 1] ? 1 : 0);
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

/** Number of differing bits between two dHash strings. */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 8) {
    let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x) {
      x &= x - 1;
      d++;
    }
  }
  return d;
}
