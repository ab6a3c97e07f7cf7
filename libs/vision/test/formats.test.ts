// Images as they come: one generated file per case, decoded and presized by the public API.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError, decodeBmp, decodeImage, presize, type RgbImage } from '../src/index.ts';
import { RED, BLUE, isBlue, isRed, pixel, rgb, tmp } from './images.ts';

// A 5×3 image whose every pixel is distinct, so any wrong flip or turn shows.
const W = 5;
const H = 3;
const stored = rgb(W, H, (x, y) => [x * 50, y * 100, 200 - x * 10 - y * 20]);

/** Stored (sx, sy) for displayed (x, y) under EXIF orientation o (TIFF 6.0 / Exif 2.3 table), for a w×h stored image. */
function storedPixel(o: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (o) {
    case 1: return [x, y];
    case 2: return [w - 1 - x, y];
    case 3: return [w - 1 - x, h - 1 - y];
    case 4: return [x, h - 1 - y];
    case 5: return [y, x];
    case 6: return [y, h - 1 - x];
    case 7: return [w - 1 - y, h - 1 - x];
    default: return [w - 1 - y, x];
  }
}

/** The image displayed under orientation o, from its stored pixels. */
function handOriented(o: number, image: RgbImage = { data: stored, width: W, height: H }): RgbImage {
  const [w, h] = o >= 5 ? [image.height, image.width] : [image.width, image.height];
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [sx, sy] = storedPixel(o, x, y, image.width, image.height);
      const at = (sy * image.width + sx) * 3;
      data.set(image.data.subarray(at, at + 3), (y * w + x) * 3);
    }
  return { data, width: w, height: h };
}

const bmpHeader = (width: number, height: number, bpp: number, paletteSize: number, pixelBytes: number) => {
  const offset = 54 + paletteSize * 4;
  const b = Buffer.alloc(offset + pixelBytes);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(offset, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(bpp, 28);
  b.writeUInt32LE(paletteSize, 46);
  return b;
};

describe('images as they come', () => {
  for (let o = 1; o <= 8; o++) {
    it(`applies EXIF orientation ${o}: presize equals the hand-oriented pixels`, async () => {
      // Lossless WebP keeps every pixel exact and carries EXIF.
      const path = join(tmp, `orient${o}.webp`);
      await sharp(stored, { raw: { width: W, height: H, channels: 3 } }).webp({ lossless: true }).withMetadata({ orientation: o }).toFile(path);
      expect((await sharp(path).metadata()).orientation ?? 1).toBe(o);
      const want = handOriented(o);
      const got = await presize(path, { size: [want.height, want.width], method: 'squish' });
      expect([got.width, got.height]).toEqual([want.width, want.height]);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
    });

    it(`applies EXIF orientation ${o} to a JPEG (the fast decoder): the hand-oriented pixels of the same scan`, async () => {
      // sharp encodes the same pixels to the same scan whatever the EXIF says, so the orientation-1
      // file's decode is the stored image. 13×7 puts partial MCUs on two edges.
      const photo = rgb(13, 7, (x, y) => [x * 19, y * 36, (x * y * 7) & 255]);
      const jpeg = (orientation: number) => sharp(photo, { raw: { width: 13, height: 7, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
      const want = handOriented(o, await decodeImage(await jpeg(1)));
      const got = await decodeImage(await jpeg(o));
      expect([got.width, got.height]).toEqual([want.width, want.height]);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
    });
  }

  // fixtures/{ycck,cmyk}.jpg (written by fixtures/make-cmyk-jpegs.c with libjpeg): 16×8, four
  // 4-pixel stripes of inks white, black (K), red (M+Y), cyan (C); ycck.jpg stores them as YCCK
  // (Adobe transform 2), cmyk.jpg as plain CMYK. The colours are libvips' built-in CMYK profile's
  // rendering of those inks (PIL's naive 255 − c − k formula would give 0/255 values instead).
  const inkColours = [[255, 255, 255], [18, 4, 23], [232, 0, 21], [0, 153, 227]];
  const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

  it('converts YCCK and CMYK JPEGs (Adobe markers) to sRGB: known inks give known colours', async () => {
    const ycckBytes = readFileSync(fixture('ycck.jpg'));
    expect(ycckBytes[ycckBytes.indexOf('Adobe') + 11]).toBe(2); // APP14 transform 2: YCCK
    const images: RgbImage[] = [];
    for (const name of ['ycck.jpg', 'cmyk.jpg']) {
      expect((await sharp(fixture(name)).metadata()).space).toBe('cmyk');
      const img = await decodeImage(fixture(name));
      expect([img.width, img.height]).toEqual([16, 8]);
      // Stripe interiors (x = 4s+1, 4s+2) in every row, within JPEG loss.
      for (let stripe = 0; stripe < 4; stripe++)
        for (let y = 0; y < 8; y++)
          for (const x of [4 * stripe + 1, 4 * stripe + 2])
            pixel(img, x, y).forEach((v, c) => expect(Math.abs(v - inkColours[stripe][c]), `${name} (${x}, ${y}) channel ${c}`).toBeLessThanOrEqual(6));
      // presize's one-pipeline path gives the same pixels as decoding.
      expect(Array.from((await presize(fixture(name), { size: [8, 16], method: 'squish' })).data)).toEqual(Array.from(img.data));
      images.push(img);
    }
    // The two encodings of the same inks decode alike.
    const maxDiff = images[0].data.reduce((m, v, i) => Math.max(m, Math.abs(v - images[1].data[i])), 0);
    expect(maxDiff).toBeLessThanOrEqual(8);
  });

  it('ignores an embedded ICC profile, as PIL does: the stored RGB values are the pixels', async () => {
    const saturated = rgb(8, 8, (x) => (x < 4 ? [250, 20, 30] : [20, 240, 40]));
    const plain = await sharp(saturated, { raw: { width: 8, height: 8, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    // The same JPEG with libvips' Display P3 profile spliced in as an APP2 ICC_PROFILE segment.
    const profile = (await sharp(await sharp(saturated, { raw: { width: 8, height: 8, channels: 3 } }).withIccProfile('p3').jpeg().toBuffer()).metadata()).icc!;
    const body = Buffer.concat([Buffer.from('ICC_PROFILE\0', 'latin1'), Buffer.from([1, 1]), profile]);
    const app2 = Buffer.concat([Buffer.from([0xff, 0xe2, (body.length + 2) >> 8, (body.length + 2) & 255]), body]);
    const tagged = Buffer.concat([plain.subarray(0, 2), app2, plain.subarray(2)]);
    expect((await sharp(tagged).metadata()).hasProfile).toBe(true);
    const got = await decodeImage(tagged);
    expect(Array.from(got.data)).toEqual(Array.from((await decodeImage(plain)).data));
    expect(Array.from((await presize(tagged, { size: 8, method: 'squish' })).data)).toEqual(Array.from(got.data));
    // Converting through the profile (what sharp does by default) would have moved the colours.
    const converted = await sharp(tagged).removeAlpha().raw().toBuffer();
    expect(converted.reduce((m, v, i) => Math.max(m, Math.abs(v - got.data[i])), 0)).toBeGreaterThan(10);
  });

  it('drops the alpha of a palette PNG with a transparent entry, as for RGBA (no compositing)', async () => {
    const rgba = Uint8Array.of(200, 10, 10, 255, 10, 200, 10, 0, 10, 10, 200, 128, 90, 90, 90, 255);
    const path = join(tmp, 'palette.png');
    await sharp(rgba, { raw: { width: 4, height: 1, channels: 4 } }).png({ palette: true, colours: 4, dither: 0 }).toFile(path);
    const meta = await sharp(path).metadata();
    expect(meta.isPalette).toBe(true);
    const stored = await sharp(path).ensureAlpha().raw().toBuffer();
    const img = await decodeImage(path);
    // Each pixel is the stored palette colour, whatever its alpha: not blended with white or black.
    for (let i = 0; i < 4; i++) expect(pixel(img, i, 0)).toEqual(Array.from(stored.subarray(i * 4, i * 4 + 3)));
    expect(pixel(img, 0, 0)).toEqual([200, 10, 10]);
    expect(Array.from((await decodeImage(path)).data)).toEqual(Array.from(img.data)); // the same every time
  });

  it('takes the first frame of an animated GIF and the first page of a multi-page TIFF', async () => {
    const frames = rgb(8, 16, (_x, y) => (y < 8 ? RED : BLUE)); // frame 1 red, frame 2 blue
    for (const format of ['gif', 'tiff'] as const) {
      const path = join(tmp, `pages.${format}`);
      await sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } }).toFormat(format).toFile(path);
      expect((await sharp(path).metadata()).pages).toBe(2);
      const img = await decodeImage(path);
      expect([img.width, img.height]).toEqual([8, 8]);
      expect(isRed(pixel(img, 4, 4))).toBe(true);
    }
  });

  it('reads WebP and AVIF', async () => {
    for (const format of ['webp', 'avif'] as const) {
      const path = join(tmp, `colour.${format}`);
      await sharp(rgb(16, 16, (x) => (x < 8 ? RED : BLUE)), { raw: { width: 16, height: 16, channels: 3 } }).toFormat(format, { quality: 90 }).toFile(path);
      const img = await decodeImage(path);
      expect([img.width, img.height]).toEqual([16, 16]);
      expect(isRed(pixel(img, 2, 8))).toBe(true);
      expect(isBlue(pixel(img, 13, 8))).toBe(true);
    }
  });

  it('decodes 24-bit bottom-up, 32-bit top-down and 8-bit palette BMPs exactly', async () => {
    const want = rgb(3, 2, (x, y) => [x * 80, y * 200, 7 + x]);
    const b24 = bmpHeader(3, 2, 24, 0, 12 * 2); // stride 9 → 12
    for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) b24.set([7 + x, y * 200, x * 80], 54 + (1 - y) * 12 + x * 3);
    const b32 = bmpHeader(3, -2, 32, 0, 12 * 2);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) b32.set([7 + x, y * 200, x * 80, 255], 54 + y * 12 + x * 4);
    const b8 = bmpHeader(3, 2, 8, 6, 4 * 2);
    for (let i = 0; i < 6; i++) b8.set([want[i * 3 + 2], want[i * 3 + 1], want[i * 3], 0], 54 + i * 4);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) b8[54 + 24 + (1 - y) * 4 + x] = y * 3 + x;
    for (const [name, bytes] of [['b24', b24], ['b32', b32], ['b8', b8]] as const) {
      const path = join(tmp, `${name}.bmp`);
      writeFileSync(path, bytes);
      const img = await decodeImage(path);
      expect([name, img.width, img.height, Array.from(img.data)]).toEqual([name, 3, 2, Array.from(want)]);
    }
    expect((await presize(join(tmp, 'b24.bmp'), { size: 4, method: 'squish' })).data.length).toBe(48);
  });

  it('refuses RLE bitmaps with the reason', () => {
    const rle = bmpHeader(2, 2, 8, 2, 8);
    rle.writeUInt32LE(1, 30);
    expect(() => decodeBmp(rle)).toThrow(/RLE8 bitmaps are not supported/);
  });

  it('guards against decompression bombs: over maxPixels is refused from the header, in decode and presize', async () => {
    const path = join(tmp, 'big.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).png().toFile(path);
    await expect(presize(path, { size: 32 }, 'centre', { maxPixels: 59_999 })).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(path, { maxPixels: 59_999 })).rejects.toMatchObject({ kind: 'too-large' });
    expect((await presize(path, { size: 32 }, 'centre', { maxPixels: 60_000 })).width).toBe(32);
    const bmp = bmpHeader(300, 200, 24, 0, 900 * 200);
    await expect(decodeImage(bmp, { maxPixels: 1000 })).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('names the failure kind of truncated, corrupt and non-image bytes', async () => {
    const png = await sharp(rgb(64, 64, (x, y) => [x * 4, y * 4, (x * y) & 255]), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    await expect(decodeImage(png.subarray(0, png.length >> 1))).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(decodeImage(Buffer.from('not an image at all'))).rejects.toMatchObject({ kind: 'unsupported-format' });
    await expect(decodeImage(join(tmp, 'missing.png'))).rejects.toMatchObject({ kind: 'unreadable' });
  });
});
