// A JPEG's size, EXIF orientation and colour layout read from its markers in JS. Decoding needs
// them before it picks a decoder and a crop window; asking sharp (metadata()) costs a whole
// libvips call, about a tenth of a small image's decode and resize. Anything unusual returns
// undefined, and the caller asks sharp after all.

export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when the file has no orientation tag). */
  orientation: number;
  /** The start-of-frame marker: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, … */
  frame: number;
  /** The frame's component ids: one for grey, three for YCbCr (or RGB), four for CMYK/YCCK. */
  componentIds: number[];
  /** The Adobe APP14 segment's transform flag (0 none: RGB or CMYK, 1 YCbCr, 2 YCCK), which
   *  names the colour model instead of JFIF; undefined without such a segment. */
  adobeTransform?: number;
}

/** Component ids 'R', 'G', 'B': a frame libjpeg may read as RGB rather than YCbCr. */
const RGB_IDS = [82, 71, 66];

/**
 * Whether every decoder reads the frame's colour the same way: grey, or three components libjpeg
 * reads as YCbCr (ids other than 'R', 'G', 'B', and an Adobe segment, if any, of transform 1: 0 is
 * RGB and 2 YCCK). zune-jpeg reads 'R', 'G', 'B' ids as RGB even under transform 1, libjpeg as
 * YCbCr; CMYK, YCCK and RGB frames are libvips' to convert.
 */
export function plainColour(header: JpegHeader): boolean {
  const ids = header.componentIds;
  if (ids.length === 1) return true;
  const rgbIds = RGB_IDS.every((id, c) => ids[c] === id);
  return ids.length === 3 && !rgbIds && (header.adobeTransform === undefined || header.adobeTransform === 1);
}

/** Whether the bytes end with an EOI marker (a file cut short is sharp's to refuse by name). */
export function endsWithEoi(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
}

/** The size as displayed: EXIF orientations 5–8 swap width and height. */
export function orientedSize({ width, height, orientation }: { width: number; height: number; orientation: number }): [width: number, height: number] {
  return orientation >= 5 ? [height, width] : [width, height];
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const SOS = 0xda;
/** Markers without a length field: TEM, RST0–7, SOI, EOI. */
const STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9]);
const APP1 = 0xe1;
const APP14 = 0xee;
const ORIENTATION_TAG = 0x0112;

/**
 * A JPEG's segments from SOI up to its scan: `visit(marker, body, end)` for each, with offsets into
 * `bytes` (the payload starts at `body`, the next marker at `end`); returning false refuses the
 * file. The SOS marker's offset, or undefined when the bytes are not a JPEG, are cut short, hold a
 * marker without a length (RSTn, TEM, SOI, EOI) before the scan, or were refused.
 */
export function walkSegments(bytes: Uint8Array, visit: (marker: number, body: number, end: number) => boolean): number | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === SOS) return i;
    if (STANDALONE.has(marker)) return undefined; // no length field: not a header we expect
    const end = i + 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
    if (end < i + 4 || end > bytes.length || !visit(marker, i + 4, end)) return undefined;
    i = end;
  }
  return undefined;
}

/**
 * Width, height, orientation and colour layout of an 8-bit JPEG, or undefined when the bytes are
 * not a JPEG, are cut short, hold a frame of another precision, defer the height to a DNL marker,
 * or carry an orientation outside 1–8.
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];
  let frame: { width: number; height: number; frame: number; componentIds: number[] } | undefined;
  let exifSeen = false;
  let adobeTransform: number | undefined;
  let orientation = 1;
  // Every segment up to the scan: APP segments may also follow the frame header, and libvips
  // reads them there too.
  const sos = walkSegments(bytes, (marker, body, end) => {
    if (marker === APP1 && !exifSeen) {
      // The first Exif segment decides, with or without an orientation tag (as libvips does).
      const found = exifOrientation(bytes.subarray(body, end));
      if (found !== 'not exif') [exifSeen, orientation] = [true, found ?? 1];
    }
    // "Adobe", version (2 bytes), flags0, flags1 (2 each), transform.
    if (marker === APP14 && end - body >= 12 && String.fromCharCode(...bytes.subarray(body, body + 5)) === 'Adobe') adobeTransform = bytes[body + 11];
    if (SOF.has(marker)) {
      const components = bytes[body + 5];
      if (frame || end - body < 6 + 3 * components || bytes[body] !== 8) return false;
      const componentIds = Array.from({ length: components }, (_, c) => bytes[body + 6 + 3 * c]);
      frame = { height: u16(body + 1), width: u16(body + 3), frame: marker, componentIds };
    }
    return true;
  });
  if (sos === undefined || !frame) return undefined;
  return frame.height > 0 && frame.width > 0 && orientation >= 1 && orientation <= 8 ? { ...frame, orientation, adobeTransform } : undefined;
}

/** IFD0's orientation from an APP1 payload: 'not exif' for another APP1 (XMP), undefined for an
 *  Exif segment without the tag (or one too short to read), 0 for a tag of another shape (which
 *  the caller refuses). */
function exifOrientation(app1: Uint8Array): number | undefined | 'not exif' {
  // "Exif\0\0", then a TIFF header: byte order (II little / MM big), 42, IFD0 offset.
  if (app1.length < 6 || String.fromCharCode(...app1.subarray(0, 4)) !== 'Exif' || app1[4] !== 0 || app1[5] !== 0) return 'not exif';
  const tiff = app1.subarray(6);
  if (tiff.length < 8) return undefined;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 0;
  const u16 = (i: number) => (little ? tiff[i] | (tiff[i + 1] << 8) : (tiff[i] << 8) | tiff[i + 1]);
  const u32 = (i: number) => (little ? u16(i) + u16(i + 2) * 0x10000 : u16(i) * 0x10000 + u16(i + 2));
  if (u16(2) !== 42) return 0;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 0;
  const entries = u16(ifd);
  for (let e = 0; e < entries; e++) {
    const at = ifd + 2 + 12 * e;
    if (at + 12 > tiff.length) return 0;
    // type 3 = SHORT, count 1: the value sits in the first two bytes of the value field.
    if (u16(at) === ORIENTATION_TAG) return u16(at + 2) === 3 && u32(at + 4) === 1 ? u16(at + 8) : 0;
  }
  return undefined;
}
