// The fast decoders: which files they take, and that their pixels are sharp's (PNG and baseline
// JPEG exactly, progressive JPEG within the IDCTs' rounding).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { decodeBytes } from '../src/decode.ts';
import { decodeFast, fastCodecLoaded, fastSource } from '../src/fast-codec.ts';
import { rgb } from './images.ts';

const random = new Random(11);
/** A photo-like 61×43 image (sizes off the 8/16 MCU grid): gradients plus noise. */
const W = 61;
const H = 43;
const photo = rgb(W, H, (x, y) => [(x * 4 + random.int(24)) & 255, (y * 5 + random.int(24)) & 255, (128 + 90 * Math.sin(x / 5) * Math.cos(y / 4) + random.int(16)) & 255]);
const raw = (data = photo, width = W, height = H, channels: 1 | 2 | 3 | 4 = 3) => sharp(data, { raw: { width, height, channels } });
const noLimit = Number.MAX_SAFE_INTEGER;

/** sharp's pixels under decodeImage's rules, for comparison. */
async function sharpPixels(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(bytes, { ignoreIcc: true }).rotate().toColourspace('srgb').removeAlpha().raw().toBuffer());
}

function diffs(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

/** `jpeg` with an Adobe APP14 segment (version 100, no flags, `transform`) after SOI. */
const withAdobe = (jpeg: Uint8Array, transform: number) => Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xee, 0, 14, ...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, transform]), jpeg.subarray(2)]);

describe('fast codec', () => {
  it('loaded on this platform, so the tests below exercise it', () => {
    expect(fastCodecLoaded).toBe(true);
  });

  it('takes plain JPEGs and PNGs of up to 8 bits, and leaves the rest to sharp', async () => {
    const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name));
    const jpeg = await raw().jpeg().toBuffer();
    const taken = {
      baseline: jpeg,
      progressive: await raw().jpeg({ progressive: true }).toBuffer(),
      grey: await raw().toColourspace('b-w').jpeg().toBuffer(),
      'png rgb': await raw().png().toBuffer(),
      'png palette': await raw().png({ palette: true }).toBuffer(),
    };
    for (const [name, bytes] of Object.entries(taken)) expect(fastSource(bytes, noLimit), name).toMatchObject({ width: W, height: H, orientation: 1 });
    expect(fastSource(await raw().jpeg().withMetadata({ orientation: 6 }).toBuffer(), noLimit)).toMatchObject({ width: W, height: H, orientation: 6 });
    // Baseline JPEGs carry their segments for the WebAssembly decoder; the rest go to @napi-rs/image.
    for (const name of ['baseline', 'grey'] as const) expect(fastSource(taken[name], noLimit)?.baseline, name).toBeDefined();
    for (const name of ['progressive', 'png rgb'] as const) expect(fastSource(taken[name], noLimit)?.baseline, name).toBeUndefined();

    // Component ids 'R', 'G', 'B' (libjpeg reads the frame as RGB): patch a YCbCr frame's ids.
    const rgbIds = Buffer.from(jpeg);
    const sof = rgbIds.indexOf(Buffer.from([0xff, 0xc0]));
    [82, 71, 66].forEach((id, c) => (rgbIds[sof + 10 + 3 * c] = id));
    // An Adobe segment's transform decides: 1 (YCbCr) is taken, 0 (RGB) is not.
    expect(fastSource(withAdobe(jpeg, 1), noLimit)).toMatchObject({ width: W, height: H });
    const left = {
      'adobe rgb': withAdobe(jpeg, 0),
      cmyk: fixture('cmyk.jpg'),
      ycck: fixture('ycck.jpg'),
      'rgb ids': rgbIds,
      'jpeg cut short': jpeg.subarray(0, jpeg.length - 40),
      'png cut short': taken['png rgb'].subarray(0, taken['png rgb'].length - 20),
      'png 16-bit': await raw().toColourspace('rgb16').png().toBuffer(),
      webp: await raw().webp().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(left)) expect(fastSource(bytes, noLimit), name).toBeUndefined();
    expect(fastSource(jpeg, W * H)).toBeDefined();
    expect(fastSource(jpeg, W * H - 1)).toBeUndefined(); // the pixel guard is sharp's to report
  });

  it("decodes PNGs to sharp's pixels exactly: RGB, RGBA and grey + alpha (alpha dropped), grey, palette", async () => {
    const grey = photo.filter((_, i) => i % 3 === 0);
    const files = [
      await raw().png().toBuffer(),
      await raw(Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? i & 255 : photo[(i >> 2) * 3 + (i % 4)])), W, H, 4).png().toBuffer(),
      await raw(Uint8Array.from({ length: W * H * 2 }, (_, i) => (i % 2 ? 255 - (i & 255) : grey[i >> 1])), W, H, 2).png().toBuffer(),
      await raw(grey, W, H, 1).png().toBuffer(),
      await raw().png({ palette: true, colours: 64 }).toBuffer(),
    ];
    for (const [k, bytes] of files.entries()) {
      const source = fastSource(bytes, noLimit)!;
      expect(source, `file ${k}`).toBeDefined();
      const fast = await decodeFast(bytes, source);
      expect([fast.width, fast.height]).toEqual([W, H]);
      expect(Buffer.from(fast.data).equals(Buffer.from(await sharpPixels(bytes))), `file ${k}`).toBe(true);
    }
  });

  it("decodes baseline JPEGs to sharp's (libjpeg-turbo's) pixels exactly, progressive ones to within the IDCTs' rounding", async () => {
    const baseline = await raw().jpeg({ quality: 90 }).toBuffer();
    for (const bytes of [baseline, withAdobe(baseline, 1), await raw().toColourspace('b-w').jpeg().toBuffer(), await raw().jpeg({ chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 7 }).toBuffer()]) {
      const fast = await decodeFast(bytes, fastSource(bytes, noLimit)!);
      expect(diffs(fast.data, await sharpPixels(bytes)).max).toBe(0);
    }
    const progressive = await raw().jpeg({ quality: 60, progressive: true }).toBuffer();
    const { max, mean } = diffs((await decodeFast(progressive, fastSource(progressive, noLimit)!)).data, await sharpPixels(progressive));
    expect(max).toBeLessThanOrEqual(8);
    expect(mean).toBeLessThan(0.5);
  });

  it("reads a YCbCr frame with component ids 'R', 'G', 'B' as libjpeg does, whatever decoder takes it", async () => {
    // libjpeg: a JFIF or Adobe (transform 1) marker makes the frame YCbCr, ids or not; zune-jpeg
    // goes by the ids and reads RGB (a mean difference of about 70 levels on this file).
    const ycbcr = Buffer.from(await raw().jpeg({ quality: 90 }).toBuffer());
    const sof = ycbcr.indexOf(Buffer.from([0xff, 0xc0]));
    const sos = ycbcr.indexOf(Buffer.from([0xff, 0xda]));
    [82, 71, 66].forEach((id, c) => (ycbcr[sof + 10 + 3 * c] = ycbcr[sos + 5 + 2 * c] = id)); // the frame's ids and the scan's selectors
    const bytes = withAdobe(ycbcr, 1);
    const sharpOwn = await sharpPixels(bytes);
    expect(diffs(sharpOwn, await sharpPixels(await raw().jpeg({ quality: 90 }).toBuffer())).max).toBe(0); // libjpeg: the same scan as YCbCr
    const { max, mean } = diffs((await decodeBytes(bytes, noLimit)).data, sharpOwn);
    expect(max).toBeLessThanOrEqual(8);
    expect(mean).toBeLessThan(0.5);
  });
});
