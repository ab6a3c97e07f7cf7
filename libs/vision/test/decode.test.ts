import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/index.ts';
import { BLUE, RED, isBlue, isRed, pixel, png16, pngFile, rgb, tmp } from './images.ts';

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('decodeImage', () => {
  it('drops alpha without compositing, as PIL convert("RGB") does', async () => {
    // A fully transparent pixel keeps its stored colour; a half-transparent one is not blended.
    const path = await pngFile('rgba.png', 2, 1, 4, Uint8Array.of(10, 20, 30, 0, 200, 100, 50, 128));
    const img = await decodeImage(path);
    expect([img.width, img.height]).toEqual([2, 1]);
    expect(Array.from(img.data)).toEqual([10, 20, 30, 200, 100, 50]);
  });

  it('expands greyscale (and grey + alpha) to three equal channels', async () => {
    const grey = await decodeImage(await pngFile('grey.png', 3, 1, 1, Uint8Array.of(0, 128, 255)));
    expect(Array.from(grey.data)).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
    const greyAlpha = await decodeImage(await pngFile('grey-alpha.png', 2, 1, 2, Uint8Array.of(7, 0, 99, 255)));
    expect(Array.from(greyAlpha.data)).toEqual([7, 7, 7, 99, 99, 99]);
  });

  it('reduces 16-bit images to 8 bits (high byte), greyscale included', async () => {
    const rgb16 = await decodeImage(png16('rgb16.png', 2, 1, 3, [0, 65535, 257, 1000, 40000, 32768]));
    expect(Array.from(rgb16.data)).toEqual([0, 255, 1, 3, 156, 128]);
    const grey16 = await decodeImage(png16('grey16.png', 2, 1, 1, [65535, 32896]));
    expect(Array.from(grey16.data)).toEqual([255, 255, 255, 128, 128, 128]);
    const rgba16 = await decodeImage(png16('rgba16.png', 1, 1, 4, [65535, 0, 32768, 0]));
    expect(Array.from(rgba16.data)).toEqual([255, 0, 128]);
  });

  it('applies EXIF orientation 6 (rotate 90° clockwise): width and height swap', async () => {
    // 40 wide × 20 tall, left half red: displayed upright it is 20 × 40 with the red half on top.
    const data = rgb(40, 20, (x) => (x < 20 ? RED : BLUE));
    const path = join(tmp, 'orient6.jpg');
    await sharp(data, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path);
    expect((await sharp(path).metadata()).orientation).toBe(6);
    const img = await decodeImage(path);
    expect([img.width, img.height]).toEqual([20, 40]);
    expect(isRed(pixel(img, 10, 5))).toBe(true);
    expect(isBlue(pixel(img, 10, 34))).toBe(true);
  });

  it('accepts encoded bytes as well as paths', async () => {
    const bytes = await sharp(rgb(3, 2, (x, y) => [x * 50, y * 50, 7]), { raw: { width: 3, height: 2, channels: 3 } }).png().toBuffer();
    const img = await decodeImage(bytes);
    expect(Array.from(img.data)).toEqual([0, 0, 7, 50, 0, 7, 100, 0, 7, 0, 50, 7, 50, 50, 7, 100, 50, 7]);
  });

  it('rejects truncated and non-image files', async () => {
    const jpeg = await sharp(rgb(64, 64, (x, y) => [x * 4, y * 4, 128]), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    const truncated = join(tmp, 'truncated.jpg');
    writeFileSync(truncated, jpeg.subarray(0, jpeg.length >> 1));
    await expect(decodeImage(truncated)).rejects.toThrow();
    const text = join(tmp, 'not-an-image.jpg');
    writeFileSync(text, 'hello');
    await expect(decodeImage(text)).rejects.toThrow(/unsupported image format/);
  });
});
