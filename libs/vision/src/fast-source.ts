// Which files the fast decoders take (fast-codec.ts), read from their headers in JS with nothing
// native imported, so a worker thread (baseline-presize.ts) can ask too.
import { readBaselineJpeg, type BaselineJpeg } from './jpeg-decoder.ts';
import { endsWithEoi, plainColour, readJpegHeader, type JpegHeader } from './jpeg-header.ts';
import { readPngHeader } from './png-header.ts';

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
 * The header facts when a fast decoder reads `bytes` as sharp would (baseline JPEGs and PNGs
 * exactly, progressive JPEGs up to the IDCTs' rounding) and at most `maxPixels` pixels; undefined
 * leaves the file to sharp. `jpeg`: the JPEG header when the caller has read it already.
 * - JPEG: 8-bit baseline or progressive Huffman, grey or YCbCr (component ids other than 'R',
 *   'G', 'B', and an Adobe segment, if any, of transform 1), ending with its EOI marker (a file
 *   cut short is sharp's to refuse).
 * - PNG: 8 bits or fewer per sample, no eXIf chunk, ending with IEND.
 */
export function readFastSource(bytes: Uint8Array, maxPixels: number, jpeg = readJpegHeader(bytes)): FastSource | undefined {
  const source = jpeg ? jpegSource(bytes, jpeg) : pngSource(bytes);
  return source && source.width * source.height <= maxPixels ? source : undefined;
}

function jpegSource(bytes: Uint8Array, header: JpegHeader): FastSource | undefined {
  if (!plainColour(header) || !endsWithEoi(bytes)) return undefined;
  const baseline = readBaselineJpeg(bytes); // also takes extended sequential frames (SOF1)
  if (!baseline && header.frame !== BASELINE && header.frame !== PROGRESSIVE) return undefined;
  return { width: header.width, height: header.height, orientation: header.orientation, ...(baseline && { baseline }) };
}

function pngSource(bytes: Uint8Array): FastSource | undefined {
  const header = readPngHeader(bytes);
  if (!header || header.bitDepth > 8 || header.exif) return undefined;
  return { width: header.width, height: header.height, orientation: 1 };
}

