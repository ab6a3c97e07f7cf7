// One file's check: read the bytes, hash them, sniff the real format and decode every pixel with
// sharp, so a truncated or corrupt file is reported at ingestion rather than crashing an epoch.
// The result is either the facts the manifest needs or a problem kind with a human reason.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { BmpError, dHash, decodeBmp } from '@paddock/vision';
import { checkBmp } from './bmp.ts';
import { sniffFormat, type ImageFormat } from './sniff.ts';

export type ProblemKind =
  | 'empty'
  | 'not-an-image'
  | 'corrupt'
  | 'truncated'
  | 'too-large'
  | 'unreadable'
  | 'not-a-file'
  | 'unsupported-format';

export type Inspection =
  // warning: the decoder complained but produced every pixel (e.g. corrupt JPEG entropy data).
  // dhash: the perceptual hash (libs/vision dHash) of the oriented image, for near-duplicates;
  // undefined for a featureless (nearly flat) image.
  | { ok: true; format: ImageFormat; width: number; height: number; channels: number; sha256: string; dhash: string | undefined; warning?: string }
  // sha256 is "" when the bytes could not be read.
  | { ok: false; kind: ProblemKind; reason: string; sha256: string };

// Decoder messages that mean the data stops early (libjpeg, libpng, giflib, libheif wording).
const TRUNCATION = /premature end|truncat|unexpected end|end of (file|data|stream)|bad seek|not enough data|short read|out of data/i;

/**
 * Inspects the file at absPath. Width and height are after EXIF orientation (orientations 5–8
 * swap them), which is what the presize stage will see.
 *
 * Whether a decode fails is reliable with several in flight, but its message is not: libvips
 * keeps one error buffer for all threads, so a message can be lost ("Unknown error") or belong to
 * another file. Callers that decode concurrently re-run the files for which quotesDecoder() holds
 * with nothing else decoding, to get each file's own words.
 */
export async function inspectFile(absPath: string, maxPixels: number): Promise<Inspection> {
  let bytes: Buffer;
  try {
    bytes = await readFile(absPath);
  } catch (e) {
    return { ok: false, sha256: '', ...readFailure(e as NodeJS.ErrnoException) };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length === 0) return { ok: false, kind: 'empty', reason: 'the file is empty (0 bytes)', sha256 };
  const format = sniffFormat(bytes);
  if (format === undefined) {
    return { ok: false, kind: 'not-an-image', reason: `the bytes are not a known image format (file starts with ${preview(bytes)})`, sha256 };
  }
  if (format === 'bmp') {
    const bmp = checkBmp(bytes);
    if (!bmp.ok) return { ok: false, kind: bmp.kind, reason: bmp.reason, sha256 };
    if (bmp.width * bmp.height > maxPixels) return { ok: false, sha256, ...tooLarge(bmp.width, bmp.height, maxPixels) };
    // libvips has no BMP loader; libs/vision decodes the uncompressed kinds itself, and what it
    // refuses (RLE, 16-bit, odd bitfields) is reported with its reason.
    try {
      const img = decodeBmp(bytes, maxPixels);
      return { ok: true, format, width: img.width, height: img.height, channels: bmp.channels, sha256, dhash: await dHash(img) };
    } catch (e) {
      if (e instanceof BmpError) return { ok: false, kind: e.kind, reason: e.message, sha256 };
      throw e;
    }
  }
  // Strict first: most files pass and are decoded once. A file that fails only on warnings is
  // decoded again leniently; it is kept (PIL, hence fastai, reads such files) and the warning
  // goes to the audit.
  const strict = await decode(bytes, maxPixels, 'warning');
  if (strict.ok) return { ok: true, format, width: strict.width, height: strict.height, channels: strict.channels, sha256, dhash: strict.dhash };
  const decoded = /exceeds pixel limit/i.test(strict.message) ? strict : await decode(bytes, maxPixels, 'error');
  if (decoded.ok) {
    return { ok: true, format, width: decoded.width, height: decoded.height, channels: decoded.channels, sha256, dhash: decoded.dhash, warning: strict.message };
  }
  const message = decoded.message;
  if (/exceeds pixel limit/i.test(message)) {
    // The header is trusted for the size; the pixels were never decoded.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata().catch(() => undefined);
    if (meta) return { ok: false, sha256, ...tooLarge(meta.autoOrient.width, meta.autoOrient.height, maxPixels) };
    return { ok: false, kind: 'too-large', reason: `over max_pixels ${maxPixels} (${message})`, sha256 };
  }
  if (format === 'heif') {
    return { ok: false, kind: 'unsupported-format', reason: `HEIF/HEIC image that sharp cannot decode (${message}); convert it to JPEG or PNG`, sha256 };
  }
  const early = endsEarly(format, bytes);
  if (early) return { ok: false, kind: 'truncated', reason: `${early}; decoder: ${message}`, sha256 };
  const kind = TRUNCATION.test(message) ? 'truncated' : 'corrupt';
  return { ok: false, kind, reason: `${format} data cannot be decoded: ${message}`, sha256 };
}

/** Whether the inspection's reason or warning quotes the decoder (see inspectFile). */
export function quotesDecoder(r: Inspection): boolean {
  return r.ok ? r.warning !== undefined : r.kind === 'truncated' || r.kind === 'corrupt' || r.kind === 'unsupported-format' || r.kind === 'too-large';
}

type Decoded = { ok: true; width: number; height: number; channels: number; dhash: string | undefined } | { ok: false; message: string };

/**
 * Decodes every pixel. failOn 'none' must never be used: it turns a truncated JPEG into grey
 * pixels without complaint. 'error' implies 'truncated' and matches PIL's default
 * (LOAD_TRUNCATED_IMAGES=False); 'warning' (sharp's default) also refuses files with decoder
 * warnings such as "Corrupt JPEG data: premature end of data segment" or "extraneous bytes
 * before marker". raw() forces the whole image through the decoder and autoOrient makes info
 * report the oriented size; stats() would decode too but measured ~10x slower. Embedded ICC
 * profiles are ignored, as in training's decode (libs/vision decode.ts): the near-duplicate hash
 * sees the same pixels, and converting costs 3× the decode on photos that carry one.
 */
async function decode(bytes: Buffer, maxPixels: number, failOn: 'warning' | 'error'): Promise<Decoded> {
  try {
    const { data, info } = await sharp(bytes, { failOn, limitInputPixels: maxPixels, autoOrient: true, ignoreIcc: true })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    // The hash is taken from the pixels already decoded: a second resize, not a second decode.
    const dhash = await dHash({ data, width: info.width, height: info.height, channels: info.channels });
    return { ok: true, width: info.width, height: info.height, channels: info.channels, dhash };
  } catch (e) {
    return { ok: false, message: clean((e as Error).message) };
  }
}

/**
 * Why the bytes evidently stop before the image does, from the container's own end marker, or
 * undefined when the structure looks complete (then the data itself is corrupt). Only asked about
 * files that failed to decode.
 */
function endsEarly(format: ImageFormat, b: Buffer): string | undefined {
  const n = b.length;
  if (format === 'jpeg') {
    // Encoders may pad after the end-of-image marker; ignore trailing zero bytes.
    let end = n;
    while (end > 0 && b[end - 1] === 0) end--;
    if (!(b[end - 2] === 0xff && b[end - 1] === 0xd9)) return `the file stops after ${n} bytes without the JPEG end-of-image marker (FF D9)`;
  } else if (format === 'png') {
    if (b.lastIndexOf('IEND', undefined, 'latin1') < 0) return `the file stops after ${n} bytes without the PNG IEND chunk`;
  } else if (format === 'gif') {
    if (b[n - 1] !== 0x3b) return `the file stops after ${n} bytes without the GIF trailer (3B)`;
  } else if (format === 'webp') {
    const riffSize = b.readUInt32LE(4) + 8;
    if (riffSize > n) return `the RIFF header promises ${riffSize} bytes but the file has ${n}`;
  }
  return undefined;
}

function readFailure(e: NodeJS.ErrnoException): { kind: ProblemKind; reason: string } {
  switch (e.code) {
    case 'EISDIR':
      return { kind: 'not-a-file', reason: 'a directory, not an image file' };
    case 'ELOOP':
      return { kind: 'not-a-file', reason: 'a symbolic link loop' };
    case 'EACCES':
    case 'EPERM':
      return { kind: 'unreadable', reason: `permission denied (${e.code}); make the file readable` };
    case 'ENOENT':
      return { kind: 'unreadable', reason: 'the file disappeared while the folder was being scanned' };
    default:
      return { kind: 'unreadable', reason: `cannot read the file: ${e.message}` };
  }
}

function tooLarge(width: number, height: number, maxPixels: number): { kind: ProblemKind; reason: string } {
  return {
    kind: 'too-large',
    reason: `${width}×${height} = ${width * height} pixels is over max_pixels ${maxPixels}; shrink the image or raise max_pixels`,
  };
}

// The first bytes as hex plus printable text, so "not an image" shows what the file is instead.
function preview(b: Uint8Array): string {
  const head = b.subarray(0, 8);
  const hex = [...head].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  const text = [...head].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
  return `${hex} "${text}"`;
}

function clean(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}
