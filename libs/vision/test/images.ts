// Test helpers: real image files made with sharp (and one PNG written byte by byte, for 16-bit
// input sharp cannot be asked to produce from raw data reliably), in a temporary folder.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export const tmp = mkdtempSync(join(tmpdir(), 'paddock-vision-'));

/** HWC uint8 buffer from a per-pixel function. */
export function rgb(width: number, height: number, f: (x: number, y: number) => [number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out.set(f(x, y), (y * width + x) * 3);
  return out;
}

/** Write raw pixels (1–4 channels) as a PNG file and return its path. */
export async function pngFile(name: string, width: number, height: number, channels: 1 | 2 | 3 | 4, data: Uint8Array): Promise<string> {
  const path = join(tmp, name);
  await sharp(data, { raw: { width, height, channels } }).png().toFile(path);
  return path;
}

/** A 16-bit PNG (colour type grey/grey+alpha/RGB/RGBA by channel count), written by hand. */
export function png16(name: string, width: number, height: number, channels: 1 | 2 | 3 | 4, samples: number[]): string {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16;
  ihdr[9] = colorType;
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * channels * 2); // filter byte 0 (None), then big-endian samples
    for (let i = 0; i < width * channels; i++) row.writeUInt16BE(samples[y * width * channels + i], 1 + 2 * i);
    rows.push(row);
  }
  const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
  const path = join(tmp, name);
  writeFileSync(path, png);
  return path;
}

export function pixel(img: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(o, o + 3));
}

export const RED: [number, number, number] = [220, 20, 20];
export const BLUE: [number, number, number] = [20, 20, 220];
export const isRed = (p: number[]) => p[0] > 150 && p[2] < 90;
export const isBlue = (p: number[]) => p[2] > 150 && p[0] < 90;
