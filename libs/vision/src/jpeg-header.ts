// A JPEG's size and EXIF orientation read from its markers in JS. Presize needs both before it
// builds its one sharp pipeline; asking sharp (metadata()) costs a whole libvips call, about a
// tenth of a small image's decode and resize. Anything unusual returns undefined, and the caller
// asks sharp after all.

export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when the file has no orientation tag). */
  orientation: number;
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const SOS = 0xda;
const APP1 = 0xe1;
const ORIENTATION_TAG = 0x0112;

/**
 * Width, height and orientation of an 8-bit JPEG, or undefined when the bytes are not a JPEG,
 * are cut short, hold a frame of another precision, defer the height to a DNL marker, or carry
 * an orientation outside 1–8.
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];
  let orientation: number | undefined;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    const length = u16(i + 2);
    if (length < 2 || i + 2 + length > bytes.length) return undefined;
    if (marker === APP1 && orientation === undefined) orientation = exifOrientation(bytes.subarray(i + 4, i + 2 + length));
    if (SOF.has(marker)) {
      if (length < 8 || bytes[i + 4] !== 8) return undefined;
      const [height, width] = [u16(i + 5), u16(i + 7)];
      const o = orientation ?? 1;
      return height > 0 && width > 0 && o >= 1 && o <= 8 ? { width, height, orientation: o } : undefined;
    }
    if (marker === SOS) return undefined; // scan data before any frame header
    i += 2 + length;
  }
  return undefined;
}

/** IFD0's orientation from an APP1 payload; undefined when it is not Exif or has no such tag, 0
 *  when the tag is there but not one SHORT. */
function exifOrientation(app1: Uint8Array): number | undefined {
  // "Exif\0\0", then a TIFF header: byte order (II little / MM big), 42, IFD0 offset.
  if (app1.length < 14 || String.fromCharCode(...app1.subarray(0, 4)) !== 'Exif' || app1[4] !== 0 || app1[5] !== 0) return undefined;
  const tiff = app1.subarray(6);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const u16 = (i: number) => (little ? tiff[i] | (tiff[i + 1] << 8) : (tiff[i] << 8) | tiff[i + 1]);
  const u32 = (i: number) => (little ? u16(i) + u16(i + 2) * 0x10000 : u16(i) * 0x10000 + u16(i + 2));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = u16(ifd);
  for (let e = 0; e < entries; e++) {
    const at = ifd + 2 + 12 * e;
    if (at + 12 > tiff.length) return undefined;
    // type 3 = SHORT, count 1: the value sits in the first two bytes of the value field.
    // (0, which the caller refuses, for a tag of another shape.)
    if (u16(at) === ORIENTATION_TAG) return u16(at + 2) === 3 && u32(at + 4) === 1 ? u16(at + 8) : 0;
  }
  return undefined;
}
