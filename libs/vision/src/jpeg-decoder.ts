// Baseline JPEGs decoded in WebAssembly to libjpeg-turbo's own pixels, the ones PIL gives fastai:
// the segments are read here (quantisation and Huffman tables, frame, scan, restart interval),
// the entropy decoding, IDCT, upsampling and colour conversion run in pixels.wasm (built from
// ../assembly/jpeg.ts). Only the window a presize needs is transformed and converted, and it stays
// in the module's memory for the resample, so nothing of the full image is copied or allocated.
import type { RgbImage } from './decode.ts';
import { walkSegments } from './jpeg-header.ts';
import { isWasmFailure, Layout, pixels } from './pixels-wasm.ts';
import type { Window } from './resize-window.ts';

const SOF0 = 0xc0;
const SOF1 = 0xc1;
const DHT = 0xc4;
const DQT = 0xdb;
const DRI = 0xdd;
/** Progressive, lossless, arithmetic and hierarchical frames, arithmetic conditioning, DNL, DHP, EXP. */
const REFUSED = new Set([0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xdc, 0xde, 0xdf]);

/** How the chroma planes are subsampled (pixels.wasm's toRgb codes). */
const enum Chroma {
  Grey = 0,
  Full = 1, // 4:4:4
  Half = 2, // 4:2:2: h2v1
  Quarter = 3, // 4:2:0: h2v2
}

interface Component {
  h: number;
  v: number;
  quant: number;
  dc: number;
  ac: number;
}

/** What the decoder needs from a baseline JPEG's segments. */
export interface BaselineJpeg {
  width: number;
  height: number;
  chroma: Chroma;
  components: Component[];
  /** Quantisation tables (natural order), by id. */
  quant: (Int32Array | undefined)[];
  /** Huffman tables in pixels.wasm's layout: DC ids 0–3, then AC ids 0–3. */
  huffman: (Int32Array | undefined)[];
  restart: number;
  /** Where the entropy-coded data starts. */
  scan: number;
}

/** Zig-zag position → natural (row-major) index. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30,
  37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const LOOKUP_BITS = 9;
const FAST = 1 << LOOKUP_BITS;
const MAXCODE = 2 << LOOKUP_BITS;
const OFFSET = MAXCODE + 17;
const SYMBOLS = OFFSET + 17;

/**
 * pixels.wasm's Huffman table from a DHT's 16 code-length counts and its symbols: lookups by the
 * next 9 bits for the short codes — the symbol, and for an AC code whose value bits fit in the 9
 * as well, the decoded coefficient and its run —, and JPEG's maxcode/offset arrays (Annex
 * F.2.2.3) for the rest. Undefined for counts no prefix code can have.
 */
function huffmanTable(counts: Uint8Array, symbols: Uint8Array): Int32Array | undefined {
  const table = new Int32Array(SYMBOLS + 256);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1];
    table[OFFSET + length] = k - code;
    table[MAXCODE + length] = n ? code + n - 1 : -1;
    for (let i = 0; i < n; i++, code++, k++) {
      if (length <= LOOKUP_BITS) {
        const first = code << (LOOKUP_BITS - length);
        const spare = LOOKUP_BITS - length;
        table.fill((length << 8) | symbols[k], first, first + (1 << spare));
        const [run, size] = [symbols[k] >> 4, symbols[k] & 15];
        if (size > 0 && size <= spare) {
          // Every way the next `size` bits can go: the sign-extended value, for each filler after.
          for (let bits = 0; bits < 1 << size; bits++) {
            const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
            const at = first | (bits << (spare - size));
            table.fill((value << 16) | (run << 8) | (length + size), FAST + at, FAST + at + (1 << (spare - size)));
          }
        }
      }
    }
    if (code >= 1 << length && n > 0) return undefined; // no code may be all ones (libjpeg refuses the table)
    code <<= 1;
  }
  for (let i = 0; i < symbols.length; i++) table[SYMBOLS + i] = symbols[i];
  return table;
}

/**
 * The segments of a baseline (or extended sequential, 8-bit Huffman) JPEG with one scan of all
 * its components, one or three, at 4:4:4, 4:2:2 or 4:2:0: what this decoder reproduces exactly.
 * Undefined for anything else (progressive, arithmetic, CMYK, other subsamplings, several scans,
 * tables missing or malformed), which other decoders take. Three components are decoded as
 * YCbCr: whether libjpeg reads them so (no 'R', 'G', 'B' ids, no Adobe transform 0) is the
 * caller's to check, with jpeg-header.ts's plainColour.
 */
export function readBaselineJpeg(bytes: Uint8Array): BaselineJpeg | undefined {
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];
  const quant: (Int32Array | undefined)[] = [];
  const huffman: (Int32Array | undefined)[] = [];
  let frame: { width: number; height: number; ids: number[]; sampling: [number, number][]; quantIds: number[] } | undefined;
  let restart = 0;
  const sos = walkSegments(bytes, (marker, body, end) => {
    if (marker === DQT) {
      for (let at = body; at < end; ) {
        const precision = bytes[at] >> 4;
        const id = bytes[at] & 15;
        if (id > 3 || precision > 1 || at + 1 + 64 * (precision + 1) > end) return false;
        const table = new Int32Array(64);
        for (let z = 0; z < 64; z++) table[ZIGZAG[z]] = precision ? u16(at + 1 + 2 * z) : bytes[at + 1 + z];
        quant[id] = table;
        at += 1 + 64 * (precision + 1);
      }
    } else if (marker === DHT) {
      for (let at = body; at < end; ) {
        const kind = bytes[at] >> 4;
        const id = bytes[at] & 15;
        if (kind > 1 || id > 3 || at + 17 > end) return false;
        const counts = bytes.subarray(at + 1, at + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        if (total > 256 || at + 17 + total > end) return false;
        const symbols = bytes.subarray(at + 17, at + 17 + total);
        if (kind === 0 && symbols.some((s) => s > 15)) return false; // a DC category past 15: libjpeg refuses the table
        const table = huffmanTable(counts, symbols);
        if (!table) return false;
        huffman[kind * 4 + id] = table;
        at += 17 + total;
      }
    } else if (marker === DRI) {
      if (end - body !== 2) return false;
      restart = u16(body);
    } else if (marker === SOF0 || marker === SOF1) {
      const n = bytes[body + 5];
      if (frame || bytes[body] !== 8 || (n !== 1 && n !== 3) || end - body < 6 + 3 * n) return false;
      const at = (c: number) => body + 6 + 3 * c;
      frame = {
        height: u16(body + 1),
        width: u16(body + 3),
        ids: Array.from({ length: n }, (_, c) => bytes[at(c)]),
        sampling: Array.from({ length: n }, (_, c) => [bytes[at(c) + 1] >> 4, bytes[at(c) + 1] & 15] as [number, number]),
        quantIds: Array.from({ length: n }, (_, c) => bytes[at(c) + 2]),
      };
    }
    return !REFUSED.has(marker);
  });
  if (sos === undefined || !frame || frame.width === 0 || frame.height === 0) return undefined;
  // The scan header: its components, their tables, and the spectral selection.
  const body = sos + 4;
  const n = bytes[body];
  if (sos + 2 + u16(sos + 2) > bytes.length || n !== frame.ids.length || u16(sos + 2) !== 6 + 2 * n) return undefined;
  // Spectral selection 0–63 and no successive approximation: one sequential scan.
  if (bytes[body + 1 + 2 * n] !== 0 || bytes[body + 2 + 2 * n] !== 63 || bytes[body + 3 + 2 * n] !== 0) return undefined;
  const components: Component[] = [];
  for (let c = 0; c < n; c++) {
    if (bytes[body + 1 + 2 * c] !== frame.ids[c]) return undefined;
    const tables = bytes[body + 2 + 2 * c];
    const [dc, ac] = [tables >> 4, 4 + (tables & 15)];
    const q = frame.quantIds[c];
    if (q > 3 || !quant[q] || dc > 3 || ac > 7 || !huffman[dc] || !huffman[ac]) return undefined;
    // A lone component is one block an MCU whatever its sampling factors (non-interleaved).
    const [h, v] = n === 1 ? [1, 1] : frame.sampling[c];
    components.push({ h, v, quant: q, dc, ac });
  }
  if (frame.sampling.some(([h, v]) => h < 1 || h > 4 || v < 1 || v > 4)) return undefined; // libjpeg: bogus sampling factors
  const chroma = n === 1 ? Chroma.Grey : chromaLayout(frame.sampling);
  if (chroma === undefined) return undefined;
  return { width: frame.width, height: frame.height, chroma, components, quant, huffman, restart, scan: sos + 2 + u16(sos + 2) };
}

/** 4:4:4, 4:2:2 or 4:2:0 (chroma at 1×1, luma at 1×1, 2×1 or 2×2); undefined otherwise. */
function chromaLayout(sampling: [number, number][]): Chroma | undefined {
  if (sampling.slice(1).some(([h, v]) => h !== 1 || v !== 1)) return undefined;
  const [h, v] = sampling[0];
  return h === 1 && v === 1 ? Chroma.Full : h === 2 && v === 1 ? Chroma.Half : h === 2 && v === 2 ? Chroma.Quarter : undefined;
}

/** A decoded window in pixels.wasm's memory: RGB rows of `width`·3 bytes at `at`. */
export interface WindowInMemory {
  at: number;
  width: number;
  height: number;
}

/**
 * Decode `jpeg` (read from `bytes` by readBaselineJpeg) and convert `window` (which must lie inside
 * the image) to RGB inside pixels.wasm's memory, reserving it in `layout` (later regions of the
 * layout may follow). Undefined when the data is damaged in a way libjpeg only reads with a
 * warning: another decoder decides then.
 */
export function decodeBaselineWindow(bytes: Uint8Array, jpeg: BaselineJpeg, window: Window, layout: Layout): WindowInMemory | undefined {
  try {
    return decodeInMemory(bytes, jpeg, window, layout);
  } catch (error) {
    // Memory the module cannot grow to (RangeError), or a trap on data no check foresaw: the
    // native decoders decide such a file rather than the run failing on it.
    if (isWasmFailure(error)) return undefined;
    throw error;
  }
}

function decodeInMemory(bytes: Uint8Array, jpeg: BaselineJpeg, window: Window, layout: Layout): WindowInMemory | undefined {
  const { width, height, chroma, components } = jpeg;
  const hMax = Math.max(...components.map((c) => c.h));
  const vMax = Math.max(...components.map((c) => c.v));
  const mcuWidth = 8 * hMax;
  const mcuHeight = 8 * vMax;
  const mcusX = Math.ceil(width / mcuWidth);
  const mcusY = Math.ceil(height / mcuHeight);
  const chromaWidth = Math.ceil((width * (components[1]?.h ?? 1)) / hMax);
  const chromaHeight = Math.ceil((height * (components[1]?.v ?? 1)) / vMax);
  // Fancy upsampling reads one chroma sample beyond the window each way: the MCUs to transform
  // cover the window's luma and that margin.
  const margin = chroma === Chroma.Half || chroma === Chroma.Quarter ? 2 : 0;
  const xFrom = Math.max(0, Math.floor((window.left - margin) / mcuWidth));
  const xTo = Math.min(mcusX, Math.ceil((window.left + window.width + margin) / mcuWidth));
  const vMargin = chroma === Chroma.Quarter ? 2 : 0;
  const yFrom = Math.max(0, Math.floor((window.top - vMargin) / mcuHeight));
  const yTo = Math.min(mcusY, Math.ceil((window.top + window.height + vMargin) / mcuHeight));
  // Every block takes at least two bits (a DC code and an end of block): a file claiming more blocks
  // than its data can hold is refused before memory is reserved for them.
  const blocksPerMcu = components.reduce((n, c) => n + c.h * c.v, 0);
  if ((bytes.length - jpeg.scan) * 8 < 2 * blocksPerMcu * mcusX * yTo) return undefined;
  const planeBytes = components.map((c) => mcusX * 8 * c.h * mcusY * 8 * c.v);
  const tableIds = [...new Set(components.flatMap((c) => [c.dc, c.ac]))];
  const quantIds = [...new Set(components.map((c) => c.quant))];
  const at = layout.reserve([bytes.length, components.length * 48, ...quantIds.map(() => 256), ...tableIds.map((id) => jpeg.huffman[id]!.byteLength), 512, ...planeBytes, 8 * (window.width + 48) + 64, window.width * window.height * 3]);
  const heap = new Uint8Array(pixels.memory.buffer);
  const words = new Int32Array(pixels.memory.buffer);
  heap.set(bytes, at[0]);
  let next = 2;
  const quantAt = new Map(quantIds.map((id) => [id, at[next++]]));
  for (const [id, offset] of quantAt) words.set(jpeg.quant[id]!, offset / 4);
  const tableAt = new Map(tableIds.map((id) => [id, at[next++]]));
  for (const [id, offset] of tableAt) words.set(jpeg.huffman[id]!, offset / 4);
  const scratch = at[next++];
  const planes = components.map(() => at[next++]);
  const row = at[next++];
  const out = at[next++];
  components.forEach((c, k) => {
    words.set([c.h, c.v, quantAt.get(c.quant)!, tableAt.get(c.dc)!, tableAt.get(c.ac)!, planes[k], mcusX * 8 * c.h], (at[1] + 48 * k) / 4);
  });
  const status = pixels.decodeScan(at[0] + jpeg.scan, at[0] + bytes.length, at[1], components.length, mcusX, mcusY, jpeg.restart, xFrom, xTo, yFrom, yTo, scratch);
  if (status !== 0) return undefined;
  const yStride = mcusX * 8 * components[0].h;
  const cStride = mcusX * 8;
  pixels.toRgb(planes[0], yStride, planes[1] ?? 0, planes[2] ?? 0, cStride, chroma, chromaWidth, chromaHeight, window.left, window.top, window.width, window.height, row, out);
  return { at: out, width: window.width, height: window.height };
}

/** The whole of a baseline JPEG as RGB (read by readBaselineJpeg), or undefined as for
 *  decodeBaselineWindow. */
export function decodeBaselineJpeg(bytes: Uint8Array, jpeg: BaselineJpeg): RgbImage | undefined {
  const decoded = decodeBaselineWindow(bytes, jpeg, { left: 0, top: 0, width: jpeg.width, height: jpeg.height }, new Layout());
  return decoded && { data: new Uint8Array(pixels.memory.buffer).slice(decoded.at, decoded.at + decoded.width * decoded.height * 3), width: decoded.width, height: decoded.height };
}
