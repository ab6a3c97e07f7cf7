// The one WebAssembly module of @paddock/vision (pixels.wasm, built from ../assembly/ by
// `npm run generate`): PIL's resample passes and the baseline JPEG decoder, sharing one memory so
// a decoded window is resampled where it lies.
import { readFileSync } from 'node:fs';

// Node's global WebAssembly, typed as far as used here (its declarations live in TypeScript's DOM lib).
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown }; RuntimeError: new () => Error };

export interface Pixels {
  heapBase(): number;
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  horizontal(src: number, srcStride: number, rows: number, outWidth: number, bounds: number, weights: number, taps: number, dst: number): void;
  vertical(src: number, stride: number, outHeight: number, bounds: number, weights: number, taps: number, dst: number): void;
  decodeScan(data: number, dataEnd: number, components: number, componentCount: number, mcusX: number, mcusY: number, restart: number, xFrom: number, xTo: number, yFrom: number, yTo: number, scratch: number): number;
  toRgb(y: number, yStride: number, cb: number, cr: number, cStride: number, chroma: number, chromaWidth: number, chromaHeight: number, left: number, top: number, width: number, height: number, row: number, out: number): void;
}

export const pixels = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL('./pixels.wasm', import.meta.url)))).exports as unknown as Pixels;

/** Whether `error` is the module trapping (an out-of-bounds access, say) or its memory failing to
 *  grow: the operation failed, not the caller's code. */
export function isWasmFailure(error: unknown): boolean {
  return error instanceof RangeError || error instanceof WebAssembly.RuntimeError;
}

/**
 * Regions of the module's memory for one operation, laid out after its static data (every
 * operation starts a new Layout: the module keeps nothing between calls), 16-byte aligned with 16 bytes of
 * slack each (the passes read a little past a row's end). Reserving may grow the memory, which
 * replaces `pixels.memory.buffer`: make views after the last reserve. WebAssembly memory cannot
 * shrink: the largest operation keeps its size reserved.
 */
export class Layout {
  private end = Math.ceil(pixels.heapBase() / 16) * 16;

  reserve(sizes: number[]): number[] {
    const offsets = sizes.map((n) => {
      const at = this.end;
      this.end = Math.ceil((at + n + 16) / 16) * 16; // not `& ~15`: 32-bit, it wraps past 2 GiB
      return at;
    });
    const have = pixels.memory.buffer.byteLength;
    if (this.end > have) pixels.memory.grow(Math.ceil((this.end - have) / 65536));
    return offsets;
  }
}
