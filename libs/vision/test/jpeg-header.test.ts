// The JPEG header reader decoding uses instead of sharp's metadata(): it must agree with sharp on
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

/** The segments before the scan (marker + length + payload each), and the rest from SOS on. */
function splitSegments(bytes: Uint8Array): { segments: Uint8Array[]; scan: Uint8Array } {
  const segments: Uint8Array[] = [];
  let i = 2;
  while (bytes[i + 1] !== 0xda) {
    const end = i + 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
    segments.push(bytes.subarray(i, end));
    i = end;
  }
  return { segments, scan: bytes.subarray(i) };
}

/** The fields sharp's metadata() also gives. */
function sizeAndOrientation(bytes: Uint8Array) {
  const header = readJpegHeader(bytes);
  return header && { width: header.width, height: header.height, orientation: header.orientation };
}

const joinJpeg = (segments: Uint8Array[], scan: Uint8Array) => Buffer.concat([Buffer.from([0xff, 0xd8]), ...segments, scan]);

/** An APP1 Exif segment with IFD0 holding only `entries` (tag, type, count, value), in either byte order. */
function exifSegment(order: 'II' | 'MM', entries: [number, number, number, number][]): Uint8Array {
  const le = order === 'II';
  const u16 = (v: number) => (le ? [v & 255, v >> 8] : [v >> 8, v & 255]);
  const u32 = (v: number) => (le ? [...u16(v & 0xffff), ...u16(v >>> 16)] : [...u16(v >>> 16), ...u16(v & 0xffff)]);
  const tiff = [...Buffer.from(order), ...u16(42), ...u32(8), ...u16(entries.length), ...entries.flatMap(([tag, type, count, value]) => [...u16(tag), ...u16(type), ...u32(count), ...u16(value), 0, 0]), ...u32(0)];
  const payload = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  return Uint8Array.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload]);
}

describe('readJpegHeader', () => {
  for (let o = 1; o <= 8; o++) {
    it(`EXIF orientation ${o}: the size and orientation sharp reads`, async () => {
      const bytes = await raw().jpeg().withMetadata({ orientation: o }).toBuffer();
      expect(sizeAndOrientation(bytes)).toEqual(await sharpHeader(bytes));
      expect(sizeAndOrientation(bytes)).toEqual({ width: W, height: H, orientation: o });
    });
  }

  it('progressive, grayscale, no EXIF at all, optimised scans and the CMYK/YCCK fixtures', async () => {
    const files = [
      await raw().jpeg({ progressive: true }).toBuffer(),
      await raw().toColourspace('b-w').jpeg().toBuffer(),
      await raw().jpeg().toBuffer(), // sharp writes no EXIF unless asked
      await raw().jpeg({ quality: 50, optimiseScans: true }).toBuffer(),
      readFileSync(join(import.meta.dirname, 'fixtures/cmyk.jpg')),
      readFileSync(join(import.meta.dirname, 'fixtures/ycck.jpg')),
    ];
    for (const bytes of files) expect(sizeAndOrientation(bytes)).toEqual(await sharpHeader(bytes));
    // The colour layout: frame type, component ids (libjpeg's 1, 2, 3 for YCbCr), Adobe transform.
    const layout = (bytes: Uint8Array) => {
      const h = readJpegHeader(bytes)!;
      return [h.frame, h.componentIds.length, h.adobeTransform];
    };
    expect(files.map(layout)).toEqual([[0xc2, 3, undefined], [0xc0, 1, undefined], [0xc0, 3, undefined], [0xc2, 3, undefined], [0xc0, 4, 0], [0xc0, 4, 2]]);
    expect(readJpegHeader(files[2])!.componentIds).toEqual([1, 2, 3]);
  });

  it('reads an Exif segment after the frame header, big-endian Exif and fill bytes, as sharp does', async () => {
    const { segments, scan } = splitSegments(await raw().jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const exif = segments.findIndex((seg) => seg[1] === 0xe1);
    const sof = segments.findIndex((seg) => seg[1] === 0xc0);
    expect(exif).toBeLessThan(sof);
    const reordered = [...segments.filter((_, k) => k !== exif)];
    reordered.splice(sof, 0, segments[exif]); // just after SOF0
    const afterFrame = joinJpeg(reordered, scan);
    expect(sizeAndOrientation(afterFrame)).toEqual({ width: W, height: H, orientation: 6 });
    expect(sizeAndOrientation(afterFrame)).toEqual(await sharpHeader(afterFrame));

    const plain = splitSegments(await raw().jpeg().toBuffer());
    const bigEndian = joinJpeg([exifSegment('MM', [[0x0112, 3, 1, 8]]), ...plain.segments], plain.scan);
    expect(sizeAndOrientation(bigEndian)).toEqual({ width: W, height: H, orientation: 8 });
    expect(sizeAndOrientation(bigEndian)).toEqual(await sharpHeader(bigEndian));

    const filled = joinJpeg([Uint8Array.of(0xff, 0xff), ...plain.segments.map((seg) => Buffer.concat([Buffer.from([0xff]), seg]))], plain.scan);
    expect(sizeAndOrientation(filled)).toEqual(await sharpHeader(filled));
  });

  it('the first Exif segment decides, even without an orientation tag', async () => {
    const oriented = splitSegments(await raw().jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const noTag = exifSegment('II', [[0x010f, 2, 1, 0]]); // Make, no orientation
    const bytes = joinJpeg([noTag, ...oriented.segments], oriented.scan);
    expect(sizeAndOrientation(bytes)).toEqual({ width: W, height: H, orientation: 1 });
    expect(sizeAndOrientation(bytes)).toEqual(await sharpHeader(bytes));
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
    // An orientation tag of another type, and a restart marker (no length field) among the headers.
    const plain = splitSegments(await raw().jpeg().toBuffer());
    expect(readJpegHeader(joinJpeg([exifSegment('II', [[0x0112, 4, 1, 6]]), ...plain.segments], plain.scan))).toBeUndefined();
    expect(readJpegHeader(joinJpeg([Uint8Array.of(0xff, 0xd0), ...plain.segments], plain.scan))).toBeUndefined();
  });

  it('presize of a file equals presize of its decoded image, for every window and orientation', async () => {
    for (const o of [1, 3, 6, 8]) {
      const bytes = await raw().jpeg({ quality: 90 }).withMetadata({ orientation: o }).toBuffer();
      expect(sizeAndOrientation(bytes)).toEqual({ width: W, height: H, orientation: o });
      for (const spec of [{ size: 16, method: 'squish' as const }, { size: [12, 20] as [number, number], method: 'crop' as const }]) {
        const fromFile = await presize(bytes, spec, [0.3, 0.7]);
        const fromDecoded = await presize(await decodeImage(bytes), spec, [0.3, 0.7]);
        expect({ o, spec, width: fromFile.width, height: fromFile.height }).toEqual({ o, spec, width: fromDecoded.width, height: fromDecoded.height });
        expect(Buffer.from(fromFile.data).equals(Buffer.from(fromDecoded.data)), `orientation ${o}, ${JSON.stringify(spec)}`).toBe(true);
      }
    }
  });
});
