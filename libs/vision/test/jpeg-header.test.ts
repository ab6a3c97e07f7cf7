// The JPEG header reader presize uses instead of sharp's metadata(): it must agree with sharp on
// every JPEG it accepts, refuse what it cannot read, and leave presize's pixels unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { decodeImage, presize } from '../src/index.ts';
import { readJpegHeader } from '../src/jpeg-header.ts';

const W = 37;
const H = 23;
const random = new Random(3);
const noise = Uint8Array.from({ length: W * H * 3 }, () => random.int(256));
const raw = () => sharp(noise, { raw: { width: W, height: H, channels: 3 } });

async function sharpHeader(bytes: Uint8Array) {
  const m = await sharp(bytes).metadata();
  return { width: m.width, height: m.height, orientation: m.orientation ?? 1 };
}

describe('readJpegHeader', () => {
  for (let o = 1; o <= 8; o++) {
    it(`EXIF orientation ${o}: the size and orientation sharp reads`, async () => {
      const bytes = await raw().jpeg().withMetadata({ orientation: o }).toBuffer();
      expect(readJpegHeader(bytes)).toEqual(await sharpHeader(bytes));
      expect(readJpegHeader(bytes)).toEqual({ width: W, height: H, orientation: o });
    });
  }

  it('progressive, grayscale, no EXIF at all, restart markers and the CMYK/YCCK fixtures', async () => {
    const files = [
      await raw().jpeg({ progressive: true }).toBuffer(),
      await raw().grayscale().jpeg().toBuffer(),
      await raw().jpeg().toBuffer(), // sharp writes no EXIF unless asked
      await raw().jpeg({ quality: 50, optimiseScans: true }).toBuffer(),
      readFileSync(join(import.meta.dirname, 'fixtures/cmyk.jpg')),
      readFileSync(join(import.meta.dirname, 'fixtures/ycck.jpg')),
    ];
    for (const bytes of files) expect(readJpegHeader(bytes)).toEqual(await sharpHeader(bytes));
  });

  it('refuses non-JPEGs, a header cut short, and an orientation outside 1–8', async () => {
    const jpeg = await raw().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(readJpegHeader(await raw().png().toBuffer())).toBeUndefined();
    expect(readJpegHeader(new Uint8Array(0))).toBeUndefined();
    expect(readJpegHeader(jpeg.subarray(0, 30))).toBeUndefined(); // inside the EXIF segment
    // Orientation 6 → 9: find the tag (0x0112, SHORT, count 1) and change its value.
    const bad = Uint8Array.from(jpeg);
    const at = Buffer.from(bad).indexOf(Buffer.from([0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00]));
    expect(at).toBeGreaterThan(0); // little-endian (II), as sharp writes it
    bad[at + 8] = 9;
    expect(readJpegHeader(bad)).toBeUndefined();
  });

  it('presize through the header reader: the crop window of a full decode, the same pixels', async () => {
    for (const o of [1, 3, 6, 8]) {
      const bytes = await raw().jpeg({ quality: 90 }).withMetadata({ orientation: o }).toBuffer();
      for (const spec of [{ size: 16, method: 'squish' as const }, { size: [12, 20] as [number, number], method: 'crop' as const }]) {
        const fast = await presize(bytes, spec, [0.3, 0.7]);
        const full = await presize(await decodeImage(bytes), spec, [0.3, 0.7]);
        let maxDiff = 0;
        for (let i = 0; i < full.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast.data[i] - full.data[i]));
        // A squish of a quarter-turned image differs by one level in places: libvips resizes before
        // it turns (it did so before the header reader too). Every crop window is exact.
        expect({ o, spec, width: fast.width, height: fast.height, maxDiff }).toEqual({ o, spec, width: full.width, height: full.height, maxDiff: spec.method === 'squish' && o >= 5 ? 1 : 0 });
      }
    }
  });
});
