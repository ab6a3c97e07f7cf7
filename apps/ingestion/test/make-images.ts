// Test helpers: real image files made with sharp (no mocks), written into temp folders.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `paddock-ingest-${tag}-`));
}

export function put(root: string, rel: string, bytes: Uint8Array | string): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

/** Deterministic RGB pixels; `variant` makes different images of the same size. Noise so that
 *  JPEGs are big enough to cut in half meaningfully. */
export function pixels(width: number, height: number, variant = 0): Buffer {
  const b = Buffer.alloc(width * height * 3);
  let x = (variant * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < b.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

type Format = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif';

export async function image(format: Format, width: number, height: number, variant = 0, orientation?: number): Promise<Buffer> {
  let s = sharp(pixels(width, height, variant), { raw: { width, height, channels: 3 } }).toFormat(format);
  if (orientation !== undefined) s = s.withMetadata({ orientation });
  return s.toBuffer();
}

/** A bottom-up 24-bit uncompressed BMP (BITMAPINFOHEADER), built by hand: sharp cannot write BMP. */
export function bmp(width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(stride * height, 34);
  for (let i = 54; i < size; i++) b[i] = i & 0xff;
  return b;
}
