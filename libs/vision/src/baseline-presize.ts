// presize in WebAssembly, for the files most datasets are made of: a baseline JPEG stored upright
// is decoded only as far as its Resize window needs, and the window is resampled where it was
// decoded; one with an EXIF orientation is decoded whole and turned first. The pixels are
// fastai's exactly (libjpeg-turbo's decode, PIL's resample). Imports nothing native, so
// presize-thread.ts can run it in a worker thread.
import { readFastSource } from './fast-source.ts';
import { decodeBaselineJpeg, decodeBaselineWindow } from './jpeg-decoder.ts';
import { orientedSize } from './jpeg-header.ts';
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
 * fastai's Resize of `bytes` at position `pcts` as uint8 HWC, when they are a baseline JPEG of at
 * most `maxPixels` pixels (readFastSource's `baseline`; `source`: its answer when the caller has
 * it) whose window lies inside the image and is not one for shrink-on-load; undefined for
 * anything else, and for data damaged in a way libjpeg reads only with a warning (the native
 * decoders decide then).
 */
export function presizeBaseline(bytes: Uint8Array, spec: PresizeSpec, pcts: readonly [number, number], maxPixels: number, source = readFastSource(bytes, maxPixels)): Uint8Array | undefined {
  if (!source?.baseline) return undefined;
  const { baseline: jpeg, orientation } = source;
  const [H, W] = sizeHW(spec.size);
  const [width, height] = orientedSize(source);
  const win = resizeWindow(width, height, spec, pcts);
  if (!windowInside(win, width, height) || shrinksOnLoad(win, width, height, W, H)) return undefined;
  try {
    if (orientation !== 1) {
      const stored = decodeBaselineJpeg(bytes, jpeg);
      return stored && resampleBilinear(applyOrientation(stored, orientation), win, W, H).data;
    }
    const layout = new Layout();
    const decoded = decodeBaselineWindow(bytes, jpeg, win, layout);
    return decoded && resampleInMemory(decoded.at, decoded.width * 3, decoded.width, decoded.height, W, H, layout);
  } catch (error) {
    if (isWasmFailure(error)) return undefined; // memory it cannot grow to: the native path decides
    throw error;
  }
}
