// A baseline JPEG writer for the decoder's tests: it encodes given quantized coefficients (no DCT:
// the decoder does not care where they came from) with restart intervals, zero runs past 15 and
// codes longer than the decoder's 9-bit lookup, which no encoder at hand here (sharp, PIL 9)
// writes on request.
import { Random } from '@paddock/tensor';

/** Canonical Huffman codes for `counts` (codes per length 1–16) over `symbols`. */
function canonicalCodes(counts: number[], symbols: number[]): Map<number, [code: number, length: number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < counts[length - 1]; i++) codes.set(symbols[k++], [code++, length]);
    code <<= 1;
  }
  return codes;
}

// DC: the 12 categories at 4 bits. AC: end of block, zero run, then every (run, size ≤ 10): the
// first 100 at 8 bits, the other 62 at 10 (past the decoder's 9-bit lookup).
const DC_SYMBOLS = Array.from({ length: 12 }, (_, s) => s);
const DC_COUNTS = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_SYMBOLS = [0x00, 0xf0, ...Array.from({ length: 160 }, (_, i) => ((i % 16) << 4) | (1 + Math.floor(i / 16)))];
const AC_COUNTS = [0, 0, 0, 0, 0, 0, 0, 100, 0, 62, 0, 0, 0, 0, 0, 0];

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  /** Pad the last byte with 1 bits (JPEG's rule), as before a marker. */
  align(): void {
    while (this.n !== 0) this.write(1, 1);
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
}

/** The magnitude category of a value and its bits (negative values as one's complement). */
function category(v: number): [size: number, bits: number] {
  const size = v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1;
  return [size, v < 0 ? v + (1 << size) - 1 : v];
}

export interface JpegComponent {
  /** Sampling factors (h, v). */
  sampling: [number, number];
}

export interface WrittenJpeg {
  bytes: Uint8Array;
  blocks: number;
}

/**
 * A baseline JPEG of `width`×`height` whose every block holds random coefficients drawn from
 * `seed`: a DC walk, and AC coefficients at random zig-zag positions (long zero runs included),
 * with one quantisation table of `quant` and a restart marker every `restart` MCUs (0: none).
 * `overrun`: the first block ends with a run past the 63rd coefficient (libjpeg puts it on the 63rd).
 */
export function writeBaselineJpeg(width: number, height: number, components: JpegComponent[], options: { seed: number; restart?: number; quant?: number; acPerBlock?: number; overrun?: boolean }): WrittenJpeg {
  const random = new Random(options.seed);
  const restart = options.restart ?? 0;
  const hMax = Math.max(...components.map((c) => c.sampling[0]));
  const vMax = Math.max(...components.map((c) => c.sampling[1]));
  const single = components.length === 1;
  const mcusX = Math.ceil(width / (8 * (single ? 1 : hMax)));
  const mcusY = Math.ceil(height / (8 * (single ? 1 : vMax)));
  const dc = canonicalCodes(DC_COUNTS, DC_SYMBOLS);
  const ac = canonicalCodes(AC_COUNTS, AC_SYMBOLS);
  const out = new BitWriter();
  const preds = components.map(() => 0);
  let blocks = 0;
  for (let m = 0; m < mcusX * mcusY; m++) {
    if (restart && m > 0 && m % restart === 0) {
      out.align();
      out.bytes.push(0xff, 0xd0 + ((m / restart - 1) & 7));
      preds.fill(0);
    }
    components.forEach((c, ci) => {
      const count = single ? 1 : c.sampling[0] * c.sampling[1];
      for (let b = 0; b < count; b++, blocks++) {
        const coefficients = new Array<number>(64).fill(0);
        // Magnitudes an 8-bit encoder could write at the default quantiser of 2: up to 150 (8 bits).
        coefficients[0] = Math.max(-500, Math.min(500, preds[ci] + random.int(81) - 40));
        for (let i = 0; i < (options.acPerBlock ?? 6); i++) coefficients[1 + random.int(63)] = (random.int(2) ? 1 : -1) * (1 + random.int(random.int(4) ? 20 : 150));
        const overrun = options.overrun && blocks === 0;
        if (overrun) coefficients.fill(0, 51).fill(7, 50, 51); // the last coefficient at 50, for the run below
        const [size, bits] = category(coefficients[0] - preds[ci]);
        preds[ci] = coefficients[0];
        const [code, length] = dc.get(size)!;
        out.write(code, length);
        out.write(bits, size);
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = coefficients[k];
          if (v === 0) {
            run++;
            continue;
          }
          for (; run > 15; run -= 16) out.write(...ac.get(0xf0)!);
          const [s, b2] = category(v);
          out.write(...ac.get((run << 4) | s)!);
          out.write(b2, s);
          run = 0;
        }
        if (overrun) {
          // From position 51, a run of 15 zeros and a 1: position 66, which libjpeg reads as 63.
          out.write(...ac.get(0xf1)!);
          out.write(1, 1);
        } else if (run > 0) out.write(...ac.get(0x00)!);
      }
    });
  }
  out.align();
  const segment = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const huffman = (kind: number, counts: number[], symbols: number[]) => segment(0xc4, [kind << 4, ...counts, ...symbols]);
  const ids = components.map((_, i) => i + 1);
  const header = [
    0xff, 0xd8,
    ...segment(0xdb, [0, ...new Array(64).fill(options.quant ?? 2)]),
    ...segment(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, components.length, ...components.flatMap((c, i) => [ids[i], (c.sampling[0] << 4) | c.sampling[1], 0])]),
    ...huffman(0, DC_COUNTS, DC_SYMBOLS),
    ...huffman(1, AC_COUNTS, AC_SYMBOLS),
    ...(restart ? segment(0xdd, [restart >> 8, restart & 255]) : []),
    ...segment(0xda, [components.length, ...ids.flatMap((id) => [id, 0x00]), 0, 63, 0]),
  ];
  return { bytes: Uint8Array.from([...header, ...out.bytes, 0xff, 0xd9]), blocks };
}

