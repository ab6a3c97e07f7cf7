// The WebAssembly baseline JPEG decoder: its pixels are libjpeg-turbo's exactly (sharp's decode,
// which is PIL's), for every layout it takes, whole or as a window; what it leaves to the native
// decoders; damage it refuses rather than guesses at.
import sharp, { type JpegOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { presizeBaseline } from '../src/baseline-presize.ts';
import { decodeBaselineJpeg, decodeBaselineWindow, readBaselineJpeg } from '../src/jpeg-decoder.ts';
import { Layout, pixels } from '../src/pixels-wasm.ts';
import { decodeImage } from '../src/decode.ts';
import { presize } from '../src/presize.ts';
import { rgb } from './images.ts';
import { writeBaselineJpeg } from './jpeg-writer.ts';

/** libjpeg-turbo's pixels for `bytes`, through sharp (ICC profiles ignored, as decodeImage does). */
async function libjpeg(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(bytes, { ignoreIcc: true }).toColourspace('srgb').removeAlpha().raw().toBuffer());
}

/** The first index where two byte arrays differ, or -1 (a count of differences would hide where). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const random = new Random(5);
/** A photo-like image: gradients, a ripple and noise, so every coefficient position gets used. */
const photo = (w: number, h: number) => rgb(w, h, (x, y) => [(x * 5 + random.int(40)) & 255, (y * 3 + random.int(40)) & 255, (128 + 100 * Math.sin(x / 3) * Math.cos(y / 5) + random.int(30)) & 255]);
const encode = (w: number, h: number, options: JpegOptions, grey = false) => {
  const image = sharp(photo(w, h), { raw: { width: w, height: h, channels: 3 } });
  return (grey ? image.toColourspace('b-w') : image).jpeg(options).toBuffer();
};

describe('baseline JPEG decoder', () => {
  it('gives libjpeg-turbo’s pixels exactly: 4:4:4 and 4:2:0, grey, sizes on and off the MCU grid, any quality', async () => {
    const sizes: [number, number][] = [[1, 1], [2, 3], [4, 4], [5, 7], [16, 16], [17, 9], [61, 43], [200, 131]];
    let checked = 0;
    for (const [w, h] of sizes) {
      for (const options of [{ quality: 100, chromaSubsampling: '4:4:4' }, { quality: 90, chromaSubsampling: '4:2:0' }, { quality: 30, chromaSubsampling: '4:2:0', optimiseCoding: true }] as JpegOptions[]) {
        for (const grey of [false, true]) {
          const bytes = await encode(w, h, options, grey);
          const jpeg = readBaselineJpeg(bytes);
          expect(jpeg, `${w}×${h} ${JSON.stringify(options)}`).toBeDefined();
          const ours = decodeBaselineJpeg(bytes, jpeg!)!;
          expect([ours.width, ours.height]).toEqual([w, h]);
          expect(firstDifference(ours.data, await libjpeg(bytes)), `${w}×${h} ${JSON.stringify(options)} grey ${grey}`).toBe(-1);
          checked++;
        }
      }
    }
    expect(checked).toBe(48);
  });

  it('reads restart intervals, zero runs past 15, codes past its 9-bit lookup, and 4:2:2', async () => {
    const layouts = { '4:4:4': [[1, 1], [1, 1], [1, 1]], '4:2:2': [[2, 1], [1, 1], [1, 1]], '4:2:0': [[2, 2], [1, 1], [1, 1]], grey: [[1, 1]] } as Record<string, [number, number][]>;
    for (const [name, sampling] of Object.entries(layouts)) {
      for (const restart of [0, 1, 3, 7]) {
        const { bytes, blocks } = writeBaselineJpeg(45, 37, sampling.map((s) => ({ sampling: s })), { seed: restart + 1, restart });
        expect(blocks).toBeGreaterThan(20);
        const jpeg = readBaselineJpeg(bytes)!;
        expect(jpeg.restart).toBe(restart);
        const ours = decodeBaselineJpeg(bytes, jpeg);
        expect(ours, `${name} restart ${restart}`).toBeDefined();
        expect(firstDifference(ours!.data, await libjpeg(bytes)), `${name} restart ${restart}`).toBe(-1);
      }
    }
  });

  it('decodes a window exactly as the whole image has it, at any offset and for every layout', async () => {
    const files = [await encode(203, 117, { quality: 92, chromaSubsampling: '4:4:4' }), await encode(203, 117, { quality: 92, chromaSubsampling: '4:2:0' }), writeBaselineJpeg(203, 117, [{ sampling: [2, 1] }, { sampling: [1, 1] }, { sampling: [1, 1] }], { seed: 9, restart: 5 }).bytes];
    for (const bytes of files) {
      const jpeg = readBaselineJpeg(bytes)!;
      const whole = decodeBaselineJpeg(bytes, jpeg)!;
      for (const win of [{ left: 0, top: 0, width: 203, height: 117 }, { left: 1, top: 1, width: 5, height: 3 }, { left: 47, top: 15, width: 117, height: 101 }, { left: 186, top: 100, width: 17, height: 17 }, { left: 31, top: 0, width: 1, height: 117 }]) {
        const layout = new Layout();
        const decoded = decodeBaselineWindow(bytes, jpeg, win, layout)!;
        const got = new Uint8Array(pixels.memory.buffer, decoded.at, win.width * win.height * 3);
        const want = new Uint8Array(win.width * win.height * 3);
        for (let y = 0; y < win.height; y++) want.set(whole.data.subarray(((win.top + y) * 203 + win.left) * 3, ((win.top + y) * 203 + win.left + win.width) * 3), y * win.width * 3);
        expect(firstDifference(got, want), JSON.stringify(win)).toBe(-1);
      }
    }
  });

  it('leaves progressive, arithmetic-free but non-baseline, CMYK and exotic-subsampling files to other decoders', async () => {
    expect(readBaselineJpeg(await encode(40, 30, { progressive: true }))).toBeUndefined();
    expect(readBaselineJpeg(await sharp(photo(40, 30), { raw: { width: 40, height: 30, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer())).toBeUndefined();
    // 4:1:1 (luma 4×1) and chroma subsampled against luma at 1×1 are not the layouts libjpeg upsamples fancily.
    expect(readBaselineJpeg(writeBaselineJpeg(40, 30, [{ sampling: [4, 1] }, { sampling: [1, 1] }, { sampling: [1, 1] }], { seed: 1 }).bytes)).toBeUndefined();
    expect(readBaselineJpeg(writeBaselineJpeg(40, 30, [{ sampling: [1, 1] }, { sampling: [2, 2] }, { sampling: [1, 1] }], { seed: 1 }).bytes)).toBeUndefined();
    expect(readBaselineJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toBeUndefined();
    expect(readBaselineJpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
  });

  it('reads a run past the 63rd coefficient onto the 63rd, as libjpeg does (no warning there)', async () => {
    const { bytes } = writeBaselineJpeg(24, 16, [{ sampling: [1, 1] }, { sampling: [1, 1] }, { sampling: [1, 1] }], { seed: 4, overrun: true });
    const plain = writeBaselineJpeg(24, 16, [{ sampling: [1, 1] }, { sampling: [1, 1] }, { sampling: [1, 1] }], { seed: 4 }).bytes;
    const ours = decodeBaselineJpeg(bytes, readBaselineJpeg(bytes)!)!;
    expect(firstDifference(ours.data, await libjpeg(bytes))).toBe(-1);
    expect(firstDifference(ours.data, await libjpeg(plain))).toBeGreaterThanOrEqual(0); // the overrun changed the first block
  });

  it('leaves values past libjpeg-turbo’s 16-bit IDCT to libjpeg itself, whose pixels decodeImage then gives', async () => {
    // Coefficients up to ±150 at a quantiser of 60: dequantized far past what 8-bit encoders write.
    const { bytes } = writeBaselineJpeg(32, 24, [{ sampling: [2, 2] }, { sampling: [1, 1] }, { sampling: [1, 1] }], { seed: 6, quant: 60 });
    expect(decodeBaselineJpeg(bytes, readBaselineJpeg(bytes)!)).toBeUndefined();
    expect(firstDifference((await decodeImage(bytes)).data, await libjpeg(bytes))).toBe(-1);
  });

  it('refuses tables and frames libjpeg refuses, and a scan too short for its blocks before reserving memory', async () => {
    const { bytes } = writeBaselineJpeg(16, 16, [{ sampling: [1, 1] }], { seed: 2 });
    expect(readBaselineJpeg(bytes)).toBeDefined();
    // DC table counts [0,0,0,12 …] → 16 codes of 4 bits: the all-ones code assigned.
    const dht = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc4);
    const allOnes = Uint8Array.from(bytes);
    allOnes[dht + 5 + 4 - 1] = 16;
    expect(readBaselineJpeg(allOnes)).toBeUndefined();
    // Sampling factors 0×0.
    const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
    const zeroSampling = Uint8Array.from(bytes);
    zeroSampling[sof + 11] = 0x00;
    expect(readBaselineJpeg(zeroSampling)).toBeUndefined();
    // 20 bytes of scan claiming 65535×65535: refused without growing the module's memory.
    const huge = Uint8Array.from(bytes);
    huge.set([255, 255, 255, 255], sof + 5);
    const jpeg = readBaselineJpeg(huge)!;
    const short = Uint8Array.from([...huge.subarray(0, jpeg.scan + 20), 0xff, 0xd9]);
    const before = pixels.memory.buffer.byteLength;
    expect(decodeBaselineJpeg(short, readBaselineJpeg(short)!)).toBeUndefined();
    expect(pixels.memory.buffer.byteLength).toBe(before);
  });

  it('refuses damage libjpeg would read only with a warning: data cut short, a missing restart marker, a bad code', async () => {
    const { bytes } = writeBaselineJpeg(64, 48, [{ sampling: [2, 2] }, { sampling: [1, 1] }, { sampling: [1, 1] }], { seed: 3, restart: 2 });
    const jpeg = readBaselineJpeg(bytes)!;
    expect(decodeBaselineJpeg(bytes, jpeg)).toBeDefined();
    // The scan cut in half, closed with EOI: the decoder would have to invent the rest.
    const half = jpeg.scan + Math.floor((bytes.length - jpeg.scan) / 2);
    const cut = Uint8Array.from([...bytes.subarray(0, half), 0xff, 0xd9]);
    expect(decodeBaselineJpeg(cut, readBaselineJpeg(cut)!)).toBeUndefined();
    // The first restart marker renumbered RST5: out of sequence.
    const rst = bytes.findIndex((b, i) => i > jpeg.scan && b === 0xff && bytes[i + 1] === 0xd0);
    const renumbered = Uint8Array.from(bytes);
    renumbered[rst + 1] = 0xd5;
    expect(decodeBaselineJpeg(renumbered, jpeg)).toBeUndefined();
    // A code no table holds: sixteen 1 bits (the all-ones code is never assigned).
    const garbage = Uint8Array.from([...bytes.subarray(0, jpeg.scan), 0xff, 0x00, 0xff, 0x00, ...bytes.subarray(jpeg.scan + 2)]);
    expect(decodeBaselineJpeg(garbage, jpeg)).toBeUndefined();
  });

  it('presizes a baseline JPEG to presize’s own pixels on libjpeg’s decode, EXIF orientation applied, and declines the rest', async () => {
    const bytes = await encode(300, 200, { quality: 90, chromaSubsampling: '4:2:0' });
    for (const [spec, pcts] of [[{ size: 128, method: 'crop' }, [0.5, 0.5]], [{ size: 128, method: 'crop' }, [0.1, 0.9]], [{ size: [96, 160], method: 'squish' }, [0.5, 0.5]]] as const) {
      const fast = presizeBaseline(bytes, spec, pcts, Infinity)!;
      // The reference: the whole image decoded by libjpeg, then the same window and resample.
      const reference = await presize({ data: await libjpeg(bytes), width: 300, height: 200 }, spec, pcts);
      expect(firstDifference(fast, reference.data), JSON.stringify(spec)).toBe(-1);
      expect(firstDifference((await presize(bytes, spec, pcts)).data, reference.data)).toBe(-1);
    }
    expect(presizeBaseline(bytes, { size: 128, method: 'pad' }, [0.5, 0.5], Infinity)).toBeUndefined(); // the window reaches outside
    expect(presizeBaseline(bytes, { size: 64, method: 'squish' }, [0.5, 0.5], Infinity)).toBeUndefined(); // shrink-on-load's
    expect(presizeBaseline(bytes, { size: 128, method: 'crop' }, [0.5, 0.5], 300 * 200 - 1)).toBeUndefined(); // over the pixel limit
    // Orientation 6: stored 300×200, shown 200×300, so a crop to 128² is a window of the turned image.
    const turned = await sharp(photo(300, 200), { raw: { width: 300, height: 200, channels: 3 } }).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer();
    const shown = new Uint8Array(await sharp(turned, { ignoreIcc: true }).rotate().toColourspace('srgb').raw().toBuffer());
    const reference = await presize({ data: shown, width: 200, height: 300 }, { size: 128 }, [0.3, 0.7]);
    expect(firstDifference(presizeBaseline(turned, { size: 128 }, [0.3, 0.7], Infinity)!, reference.data)).toBe(-1);
  });
});
