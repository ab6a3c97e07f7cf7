// presize in WebAssembly, for the files most datasets are made of: a baseline JPEG stored upright
// is decoded only as far as its Resize window needs, and the window is resampled where it was
// decoded; one with an EXIF orientation is decoded whole and turned first. The pixels are
// fastai's exactly (libjpeg-turbo's decode, PIL's resample). Imports nothing native, so
// presize-thread.ts can run it in a worker thread.
import { decodeBaselineJpeg, decodeBaselineWindow, readBaselineJpeg } from './jpeg-decoder.ts';
import { endsWithEoi, orientedSize, plainColour, readJpegHeader } from './jpeg-header.ts';
import { applyOrientation } from './orientation.ts';
import { isWasmFailure, Layout } from './pixels-wasm.ts';
import { resampleBilinear, resampleInMemory } from './resample.ts';
import { resizeWindow, sizeHW, windowInside, type PresizeSpec, type Window } from './resize-window.ts';

/**
 * Whether presize leaves a JPEG to libjpeg's shrink-on-load (DCT scaling in sharp): the window is
 * the whole image and at least twice the target both ways, where a full decode of a large photo
 * would cost ten times as much.
 */
export function shrinksOnLoad(win: Window, width: number, height: number, outWidth: number, outHeight: number): boolean {
  const whole = win.left === 0 && win.top === 0 && win.width === width && win.height === height;
  return whole && width >= 2 * outWidth && height >= 2 * outHeight;
}

/**
 * fastai's Resize of `bytes` at position `pcts` as uint8 HWC, when they are a baseline JPEG, grey
 * or YCbCr at 4:4:4, 4:2:2 or 4:2:0, of at most `maxPixels` pixels, whose window lies inside the
 * image and is not one for shrink-on-load; undefined for anything else, and for data damaged in a
 * way libjpeg reads only with a warning (the native decoders decide then).
 */
export function presizeBaseline(bytes: Uint8Array, spec: PresizeSpec, pcts: readonly [number, number], maxPixels: number): Uint8Array | undefined {
  const header = readJpegHeader(bytes);
  if (!header || header.width * header.height > maxPixels || !plainColour(header) || !endsWithEoi(bytes)) return undefined;
  const [H, W] = sizeHW(spec.size);
  const [width, height] = orientedSize(header);
  const win = resizeWindow(width, height, spec, pcts);
  if (!windowInside(win, width, height) || shrinksOnLoad(win, width, height, W, H)) return undefined;
  const jpeg = readBaselineJpeg(bytes);
  if (!jpeg) return undefined;
  try {
    if (header.orientation !== 1) {
      const stored = decodeBaselineJpeg(bytes, jpeg);
      return stored && resampleBilinear(applyOrientation(stored, header.orientation), win, W, H).data;
    }
    const layout = new Layout();
    const decoded = decodeBaselineWindow(bytes, jpeg, win, layout);
    return decoded && resampleInMemory(decoded.at, decoded.width * 3, decoded.width, decoded.height, W, H, layout);
  } catch (error) {
    if (isWasmFailure(error)) return undefined; // memory it cannot grow to: the native path decides
    throw error;
  }
}
