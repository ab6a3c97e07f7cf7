// AssemblyScript (compiled with resample.ts into src/pixels.wasm by `npm run generate`): the
// entropy decoding, inverse DCT, upsampling and colour conversion of a baseline JPEG, written to
// give libjpeg-turbo's pixels exactly as PIL and libvips decode them: the accurate integer IDCT
// (jidctint.c), "fancy" triangle upsampling of 4:2:2 and 4:2:0 chroma (jdsample.c), and the
// fixed-point YCbCr → RGB of jdcolor.c. Tables and the memory layout come from src/jpeg-decoder.ts.

/** JPEG's sign extension of an n-bit magnitude category value. */
@inline function extend(v: i32, n: i32): i32 {
  return v < (1 << (n - 1)) ? v - (1 << n) + 1 : v;
}

// A Huffman table (i32 words, built by src/jpeg-decoder.ts), looked up by the next 9 bits:
// lookup[512] = (length << 8) | symbol for codes of up to 9 bits (0 for longer ones); fast[512] =
// (value << 16) | (run << 8) | bits for an AC code whose value bits fit in the 9 too (0 otherwise);
// then maxcode[17] (by length, -1 when none), offset[17] (symbol index − code) and symbols[256].
const LOOKUP_BITS = 9;
const FAST = 512 << 2;
const MAXCODE = 1024;
const OFFSET = MAXCODE + 17;
const SYMBOLS = OFFSET + 17;

// ---- Inverse DCT: jidctint.c's jpeg_idct_islow, bit for bit ----

const CONST_BITS = 13;
const PASS1_BITS = 2;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/** Four lanes of jidctint.c's butterfly: the eight inputs of one column (pass 1) or row (pass
 *  2) per lane, `d0` … `d7`, to outputs before the descale, written to `o0` … `o7` (globals, as
 *  AssemblyScript functions return one value). */
let o0: v128 = i32x4.splat(0);
let o1: v128 = i32x4.splat(0);
let o2: v128 = i32x4.splat(0);
let o3: v128 = i32x4.splat(0);
let o4: v128 = i32x4.splat(0);
let o5: v128 = i32x4.splat(0);
let o6: v128 = i32x4.splat(0);
let o7: v128 = i32x4.splat(0);

@inline function mulc(v: v128, c: i32): v128 {
  return i32x4.mul(v, i32x4.splat(c));
}

@inline function butterfly(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, d6: v128, d7: v128, half: i32, shift: i32): void {
  // Even part.
  const z1 = mulc(i32x4.add(d2, d6), FIX_0_541196100);
  const e2 = i32x4.sub(z1, mulc(d6, FIX_1_847759065));
  const e3 = i32x4.add(z1, mulc(d2, FIX_0_765366865));
  const e0 = i32x4.shl(i32x4.add(d0, d4), CONST_BITS);
  const e1 = i32x4.shl(i32x4.sub(d0, d4), CONST_BITS);
  const rounding = i32x4.splat(half);
  const tmp10 = i32x4.add(i32x4.add(e0, e3), rounding);
  const tmp13 = i32x4.add(i32x4.sub(e0, e3), rounding);
  const tmp11 = i32x4.add(i32x4.add(e1, e2), rounding);
  const tmp12 = i32x4.add(i32x4.sub(e1, e2), rounding);
  // Odd part: d7, d5, d3, d1 are libjpeg's tmp0 … tmp3.
  const z5 = mulc(i32x4.add(i32x4.add(d7, d3), i32x4.add(d5, d1)), FIX_1_175875602);
  const a1 = mulc(i32x4.add(d7, d1), -FIX_0_899976223);
  const a2 = mulc(i32x4.add(d5, d3), -FIX_2_562915447);
  const a3 = i32x4.add(mulc(i32x4.add(d7, d3), -FIX_1_961570560), z5);
  const a4 = i32x4.add(mulc(i32x4.add(d5, d1), -FIX_0_390180644), z5);
  const t0 = i32x4.add(mulc(d7, FIX_0_298631336), i32x4.add(a1, a3));
  const t1 = i32x4.add(mulc(d5, FIX_2_053119869), i32x4.add(a2, a4));
  const t2 = i32x4.add(mulc(d3, FIX_3_072711026), i32x4.add(a2, a3));
  const t3 = i32x4.add(mulc(d1, FIX_1_501321110), i32x4.add(a1, a4));
  o0 = i32x4.shr_s(i32x4.add(tmp10, t3), shift);
  o7 = i32x4.shr_s(i32x4.sub(tmp10, t3), shift);
  o1 = i32x4.shr_s(i32x4.add(tmp11, t2), shift);
  o6 = i32x4.shr_s(i32x4.sub(tmp11, t2), shift);
  o2 = i32x4.shr_s(i32x4.add(tmp12, t1), shift);
  o5 = i32x4.shr_s(i32x4.sub(tmp12, t1), shift);
  o3 = i32x4.shr_s(i32x4.add(tmp13, t0), shift);
  o4 = i32x4.shr_s(i32x4.sub(tmp13, t0), shift);
}

/** Store the 4×4 transpose of rows a, b, c, d at `at`, rows `stride` bytes apart. */
@inline function storeTransposed(at: usize, stride: usize, a: v128, b: v128, c: v128, d: v128): void {
  const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const cd0 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const cd1 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(at, i64x2.shuffle(ab0, cd0, 0, 2));
  v128.store(at + stride, i64x2.shuffle(ab0, cd0, 1, 3));
  v128.store(at + 2 * stride, i64x2.shuffle(ab1, cd1, 0, 2));
  v128.store(at + 3 * stride, i64x2.shuffle(ab1, cd1, 1, 3));
}

/** Eight samples from two vectors of four descaled values: + 128, clamped to 0…255 (libjpeg-
 *  turbo's SIMD range limit: saturate, then add the centre). */
@inline function samples(low: v128, high: v128): u64 {
  const words = i16x8.add_sat_s(i16x8.narrow_i32x4_s(low, high), i16x8.splat(128));
  return i64x2.extract_lane(i8x16.narrow_i16x8_u(words, words), 0);
}

// libjpeg-turbo's SIMD IDCT (sharp's and PIL's here) holds the dequantized coefficients and pass
// 1's results in 16 bits, where values out of range wrap or saturate, and this 32-bit one would
// differ. No encoder of 8-bit images gets near these bounds (within them the two agree); a block
// past them is left, with its file, to libjpeg itself.
const DEQUANTIZED_LIMIT = 4095;
const PASS1_LIMIT = 8191;

/** Whether some lane of a … h lies outside ±`limit`. */
@inline function outside(limit: i32, a: v128, b: v128, c: v128, d: v128, e: v128, f: v128, g: v128, h: v128): bool {
  const high = i32x4.max_s(i32x4.max_s(i32x4.max_s(a, b), i32x4.max_s(c, d)), i32x4.max_s(i32x4.max_s(e, f), i32x4.max_s(g, h)));
  const low = i32x4.min_s(i32x4.min_s(i32x4.min_s(a, b), i32x4.min_s(c, d)), i32x4.min_s(i32x4.min_s(e, f), i32x4.min_s(g, h)));
  return v128.any_true(v128.or(i32x4.gt_s(high, i32x4.splat(limit)), i32x4.lt_s(low, i32x4.splat(-limit))));
}

/**
 * One 8×8 block of coefficients (i32, natural order, at `block`, zeroed afterwards), dequantized by
 * `quant` (i32, natural order), to samples at `out` (`stride` bytes a row): jidctint.c's two
 * passes, four columns (then rows) at a time. Columns 4–7 all zero are skipped in pass 1 (their
 * output is zero); jidctint.c's other shortcuts give the same numbers as the full sums. `work`:
 * 256 bytes, where pass 1 leaves its result transposed for pass 2. False, with nothing written,
 * for a block outside the 16-bit bounds above.
 */
function idct(block: usize, quant: usize, work: usize, out: usize, stride: i32): bool {
  for (let half: usize = 0; half < 32; half += 16) {
    const col = block + half;
    const q = quant + half;
    if (half != 0 && !v128.any_true(v128.or(v128.or(v128.or(v128.load(col), v128.load(col, 32)), v128.or(v128.load(col, 64), v128.load(col, 96))), v128.or(v128.or(v128.load(col, 128), v128.load(col, 160)), v128.or(v128.load(col, 192), v128.load(col, 224)))))) {
      // Columns 4–7 all zero (smooth blocks, most chroma): their pass-1 output is zero too.
      for (let i: usize = 128; i < 256; i += 16) v128.store(work + i, i32x4.splat(0));
      continue;
    }
    const d0 = i32x4.mul(v128.load(col), v128.load(q));
    const d1 = i32x4.mul(v128.load(col, 32), v128.load(q, 32));
    const d2 = i32x4.mul(v128.load(col, 64), v128.load(q, 64));
    const d3 = i32x4.mul(v128.load(col, 96), v128.load(q, 96));
    const d4 = i32x4.mul(v128.load(col, 128), v128.load(q, 128));
    const d5 = i32x4.mul(v128.load(col, 160), v128.load(q, 160));
    const d6 = i32x4.mul(v128.load(col, 192), v128.load(q, 192));
    const d7 = i32x4.mul(v128.load(col, 224), v128.load(q, 224));
    if (outside(DEQUANTIZED_LIMIT, d0, d1, d2, d3, d4, d5, d6, d7)) return false;
    butterfly(d0, d1, d2, d3, d4, d5, d6, d7, 1 << (CONST_BITS - PASS1_BITS - 1), CONST_BITS - PASS1_BITS);
    if (outside(PASS1_LIMIT, o0, o1, o2, o3, o4, o5, o6, o7)) return false;
    // o_k holds row k of columns half/4 … +3: transposed, row c of `work` holds column c.
    const at = work + (half << 3);
    storeTransposed(at, 32, o0, o1, o2, o3);
    storeTransposed(at + 16, 32, o4, o5, o6, o7);
  }
  const zero = i32x4.splat(0);
  for (let i: usize = 0; i < 256; i += 16) v128.store(block + i, zero);
  for (let half: usize = 0; half < 32; half += 16) {
    // Lanes are rows half/4 … +3: work's row j holds column j of every row.
    const rows = work + half;
    butterfly(v128.load(rows), v128.load(rows, 32), v128.load(rows, 64), v128.load(rows, 96), v128.load(rows, 128), v128.load(rows, 160), v128.load(rows, 192), v128.load(rows, 224), 1 << (CONST_BITS + PASS1_BITS + 3 - 1), CONST_BITS + PASS1_BITS + 3);
    // o_j holds column j of four rows: transpose back to rows, through `block` (zeroed again).
    storeTransposed(block, 32, o0, o1, o2, o3);
    storeTransposed(block + 16, 32, o4, o5, o6, o7);
    const first = out + <usize>((half >> 2) * stride);
    for (let r: usize = 0; r < 4; r++) {
      store<u64>(first + r * <usize>stride, samples(v128.load(block + (r << 5)), v128.load(block + (r << 5), 16)));
    }
  }
  for (let i: usize = 0; i < 128; i += 16) v128.store(block + i, zero);
  return true;
}

/** A block of DC only: every sample is the DC's (pass 1 scales it, pass 2 descales it). */
@inline function idctDc(dc: i32, out: usize, stride: i32): void {
  let v = (((dc << PASS1_BITS) + (1 << (PASS1_BITS + 2))) >> (PASS1_BITS + 3)) + 128;
  v = v < 0 ? 0 : v > 255 ? 255 : v;
  const word = <u64>v * 0x0101010101010101;
  for (let r = 0; r < 8; r++) store<u64>(out + <usize>(r * stride), word);
}

// ---- The scan ----

// Per component (i32 words at `components + 48·c`): blocks across and down in an MCU, quant table,
// DC table, AC table, plane, plane stride.
const H = 0;
const V = 4;
const QUANT = 8;
const DC_TABLE = 12;
const AC_TABLE = 16;
const PLANE = 20;
const STRIDE = 24;
const COMPONENT_BYTES = 48;

/** Natural-order index of each zig-zag position, then 16 of 63, as libjpeg pads it: a run past the
 *  63rd coefficient lands on the 63rd, as it does there (no check per coefficient, no warning). */
const ZIGZAG = memory.data<u8>([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]);

// The reader's position in the entropy-coded data, kept between refills (the bit buffer itself
// lives in decodeScan's locals: as globals, every access would be a memory access).
let pos: usize = 0;
/** Where reading stops: the data's end, or the marker reached. */
let limit: usize = 0;
let dataEnd: usize = 0;
/** Zero bytes fed after a marker or the end (libjpeg does the same); counted so that consuming
 *  one is seen. */
let padded = 0;
/** The bit count after a refill (refill returns the bits). */
let filled = 0;

/** Whether the `room` bytes at `at` can be appended as they are: inside the data and none 0xFF. */
@inline function plainBytes(at: usize, room: i32): bool {
  return at + 8 <= limit && (i8x16.bitmask(i8x16.eq(v128.load64_zero(at), i8x16.splat(-1))) & ((1 << room) - 1)) == 0;
}

/** `bits` (`count` bits from the top) with the `room` bytes at `at` appended below them. */
@inline function appendBytes(bits: u64, count: i32, at: usize, room: i32): u64 {
  const chunk = v128.load64_zero(at);
  // The eight bytes as a big-endian number, the first byte on top; the bytes past `room` dropped.
  const word = <u64>i64x2.extract_lane(i8x16.shuffle(chunk, chunk, 7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15), 0);
  return bits | ((word & ~(<u64>-1 >> <u64>(room * 8))) >> <u64>count);
}

/**
 * `bits` (holding `count` < 32 unread bits from its top) topped up from `pos`: the next whole bytes
 * at once when none of them is 0xFF, else byte by byte to more than 56 bits (0xFF 0x00 is a stuffed
 * 0xFF, 0xFF then anything else a marker, where reading stops and zero bytes are fed instead).
 */
function refill(bits: u64, count: i32): u64 {
  const room = (63 - count) >> 3; // whole bytes that fit
  if (plainBytes(pos, room)) {
    pos += <usize>room;
    filled = count + room * 8;
    return appendBytes(bits, count, pos - <usize>room, room);
  }
  while (count <= 56) {
    let byte: u64 = 0;
    if (pos < limit) {
      byte = <u64>load<u8>(pos);
      if (byte != 0xff) pos++;
      else if (pos + 1 < dataEnd && load<u8>(pos + 1) == 0) pos += 2;
      else {
        limit = pos;
        byte = 0;
        padded++;
      }
    } else padded++;
    bits |= byte << <u64>(56 - count);
    count += 8;
  }
  filled = count;
  return bits;
}

/** A code longer than the 9-bit lookup: (length << 8) | symbol, or -1 for none (JPEG's decode
 *  procedure, F.2.2.3, from the 10th bit on). */
function longCode(table: usize, bits: u64): i32 {
  for (let length = LOOKUP_BITS + 1; length <= 16; length++) {
    const code = <i32>(bits >> <u64>(64 - length));
    if (code <= load<i32>(table + (<usize>(MAXCODE + length) << 2))) {
      return (length << 8) | load<i32>(table + (<usize>(SYMBOLS + code + load<i32>(table + (<usize>(OFFSET + length) << 2))) << 2));
    }
  }
  return -1;
}

/**
 * Decode a baseline scan holding all `componentCount` components (interleaved when more than one)
 * from [`data`, `end`), writing each block's samples into its component's plane. `mcusX` ×
 * `mcusY` MCUs; `restart` MCUs between RST markers (0: none). Blocks of MCU columns outside
 * [`xFrom`, `xTo`) or rows outside [`yFrom`, `yTo`) are entropy-decoded but not transformed, and
 * decoding stops after row `yTo` − 1. `scratch`: 512 bytes. Returns 0, or a negative code for
 * data libjpeg would only read with a warning (a bad Huffman code, a missing restart marker,
 * data running out) and for values past its SIMD IDCT's 16 bits (see DEQUANTIZED_LIMIT).
 *
 * `bits` holds `count` unread bits from its top (the next bit is bit 63, the rest are zero), topped
 * up to at least 32 before each code: enough for a code (≤ 16 bits) and its value (≤ 16).
 */
export function decodeScan(data: usize, end: usize, components: usize, componentCount: i32, mcusX: i32, mcusY: i32, restart: i32, xFrom: i32, xTo: i32, yFrom: i32, yTo: i32, scratch: usize): i32 {
  pos = data;
  limit = end;
  dataEnd = end;
  padded = 0;
  let bits: u64 = 0;
  let count = 0;
  const block = scratch;
  const work = scratch + 256;
  for (let i: usize = 0; i < 256; i += 16) v128.store(block + i, i32x4.splat(0));
  let dc0 = 0;
  let dc1 = 0;
  let dc2 = 0;
  let untilRestart = restart;
  let nextRst = 0;
  for (let my = 0; my < yTo; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      if (restart > 0) {
        if (untilRestart == 0) {
          // The buffered bits are the last byte's padding: RSTn must be where reading stopped.
          if (pos + 1 >= end || load<u8>(pos) != 0xff || load<u8>(pos + 1) != <u8>(0xd0 + nextRst)) return -3;
          pos += 2;
          limit = end;
          bits = 0;
          count = 0;
          padded = 0;
          dc0 = 0;
          dc1 = 0;
          dc2 = 0;
          nextRst = (nextRst + 1) & 7;
          untilRestart = restart;
        }
        untilRestart--;
      }
      const transform = mx >= xFrom && mx < xTo && my >= yFrom;
      for (let c = 0; c < componentCount; c++) {
        const info = components + <usize>(c * COMPONENT_BYTES);
        const h = load<i32>(info, H);
        const v = load<i32>(info, V);
        const quant = <usize>load<i32>(info, QUANT);
        const dcTable = <usize>load<i32>(info, DC_TABLE);
        const acTable = <usize>load<i32>(info, AC_TABLE);
        const plane = <usize>load<i32>(info, PLANE);
        const stride = load<i32>(info, STRIDE);
        for (let by = 0; by < v; by++) {
          for (let bx = 0; bx < h; bx++) {
            // The DC difference.
            if (count < 32) {
              bits = refill(bits, count);
              count = filled;
            }
            let entry = load<i32>(dcTable + (<usize>(bits >> <u64>(64 - LOOKUP_BITS)) << 2));
            if (entry == 0) entry = longCode(dcTable, bits);
            if (entry < 0) return -1;
            bits <<= <u64>(entry >> 8);
            count -= entry >> 8;
            let size = entry & 15;
            const diff = size == 0 ? 0 : extend(<i32>(bits >> <u64>(64 - size)), size);
            bits <<= <u64>size;
            count -= size;
            let dc: i32;
            if (c == 0) dc = dc0 += diff;
            else if (c == 1) dc = dc1 += diff;
            else dc = dc2 += diff;
            // libjpeg keeps coefficients as 16-bit JCOEFs; the IDCT dequantizes.
            store<i32>(block, <i32><i16>dc);
            // The AC coefficients, in zig-zag order.
            let k = 1;
            while (k < 64) {
              if (count < 32) {
                bits = refill(bits, count);
                count = filled;
              }
              const peek = <usize>(bits >> <u64>(64 - LOOKUP_BITS)) << 2;
              const fast = load<i32>(acTable + peek, FAST);
              let value: i32;
              if (fast != 0) {
                bits <<= <u64>(fast & 0xff);
                count -= fast & 0xff;
                k += (fast >> 8) & 0xff;
                value = fast >> 16;
              } else {
                entry = load<i32>(acTable + peek);
                if (entry == 0) entry = longCode(acTable, bits);
                if (entry < 0) return -1;
                bits <<= <u64>(entry >> 8);
                count -= entry >> 8;
                const run = (entry >> 4) & 15;
                size = entry & 15;
                if (size == 0) {
                  if (run != 15) break; // end of block
                  k += 16;
                  continue;
                }
                k += run;
                value = extend(<i32>(bits >> <u64>(64 - size)), size);
                bits <<= <u64>size;
                count -= size;
              }
              store<i32>(block + (<usize>load<u8>(ZIGZAG + <usize>k) << 2), value);
              k++;
            }
            const out = plane + <usize>((my * v + by) * 8 * stride + (mx * h + bx) * 8);
            // Past k = 1, some AC coefficient was stored (or a zero run: the full IDCT is exact then too).
            if (k == 1) {
              const dcq = load<i32>(block) * load<i32>(quant);
              if (dcq > DEQUANTIZED_LIMIT || dcq < -DEQUANTIZED_LIMIT) return -2;
              if (transform) idctDc(dcq, out, stride);
            } else if (transform) {
              if (!idct(block, quant, work, out, stride)) return -2;
            } else for (let i: usize = 0; i < 256; i += 16) v128.store(block + i, i32x4.splat(0));
          }
        }
      }
      // A fed zero bit consumed means the data ran out before the image did.
      if (padded * 8 > count) return -4;
    }
  }
  return 0;
}

// ---- Upsampling and colour conversion of a window ----

// jdcolor.c's YCbCr → RGB in 16-bit fixed point: FIX(x) = round(x · 65536), a rounding half added
// before each shift, as its tables hold them.
const FIX_1_40200 = 91881;
const FIX_1_77200 = 116130;
const FIX_0_71414 = 46802;
const FIX_0_34414 = 22554;
const ONE_HALF = 1 << 15;

/** Eight u8 at `at` as i16 lanes. */
@inline function load8(at: usize): v128 {
  return i16x8.extend_low_i8x16_u(v128.load64_zero(at));
}

/**
 * R, G, B of eight pixels from their Y, Cb, Cr (u8 at `y`, `cb`, `cr`), as 24 bytes at `out`
 * (eight bytes of slack after it are overwritten).
 */
@inline function convert8(y: usize, cb: usize, cr: usize, out: usize): void {
  const luma = load8(y);
  const b16 = i16x8.sub(load8(cb), i16x8.splat(128));
  const r16 = i16x8.sub(load8(cr), i16x8.splat(128));
  const half = i32x4.splat(ONE_HALF);
  const bLo = i32x4.extend_low_i16x8_s(b16);
  const bHi = i32x4.extend_high_i16x8_s(b16);
  const rLo = i32x4.extend_low_i16x8_s(r16);
  const rHi = i32x4.extend_high_i16x8_s(r16);
  const redOffset = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(mulc(rLo, FIX_1_40200), half), 16), i32x4.shr_s(i32x4.add(mulc(rHi, FIX_1_40200), half), 16));
  const blueOffset = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(mulc(bLo, FIX_1_77200), half), 16), i32x4.shr_s(i32x4.add(mulc(bHi, FIX_1_77200), half), 16));
  const greenLo = i32x4.shr_s(i32x4.sub(i32x4.sub(half, mulc(bLo, FIX_0_34414)), mulc(rLo, FIX_0_71414)), 16);
  const greenHi = i32x4.shr_s(i32x4.sub(i32x4.sub(half, mulc(bHi, FIX_0_34414)), mulc(rHi, FIX_0_71414)), 16);
  const greenOffset = i16x8.narrow_i32x4_s(greenLo, greenHi);
  // The saturating narrow is libjpeg's range limit to 0…255.
  const rg = i8x16.narrow_i16x8_u(i16x8.add(luma, redOffset), i16x8.add(luma, greenOffset));
  const b = i8x16.narrow_i16x8_u(i16x8.add(luma, blueOffset), i16x8.add(luma, blueOffset));
  // r0 g0 b0 r1 … : lanes 0–7 red, 8–15 green (of rg), 16–23 blue (b).
  v128.store(out, i8x16.shuffle(rg, b, 0, 8, 16, 1, 9, 17, 2, 10, 18, 3, 11, 19, 4, 12, 20, 5));
  v128.store(out + 16, i8x16.shuffle(rg, b, 13, 21, 6, 14, 22, 7, 15, 23, 0, 0, 0, 0, 0, 0, 0, 0));
}

/**
 * The weighted sums `nearWeight`·near[c] + `farWeight`·far[c] (i16) for chroma columns c from
 * `first` − 1 to `last` + 1 into `sums`, columns outside 0 … `chromaWidth` − 1 taking the edge
 * column's: libjpeg's special first and last columns come out of the general formula then.
 */
function columnSums(near: usize, far: usize, nearWeight: i32, farWeight: i32, chromaWidth: i32, first: i32, last: i32, sums: usize): void {
  const a = i16x8.splat(<i16>nearWeight);
  const b = i16x8.splat(<i16>farWeight);
  for (let c = first - 1; c <= last + 1; ) {
    const at = sums + <usize>((c - first + 1) << 1);
    if (c >= 0 && c + 8 <= chromaWidth) {
      v128.store(at, i16x8.add(i16x8.mul(load8(near + <usize>c), a), i16x8.mul(load8(far + <usize>c), b)));
      c += 8;
    } else {
      const k = <usize>min(max(c, 0), chromaWidth - 1);
      store<i16>(at, <i16>(<i32>load<u8>(near + k) * nearWeight + <i32>load<u8>(far + k) * farWeight));
      c++;
    }
  }
}

/**
 * jdsample.c's fancy upsampling across, from the column sums of chroma columns `first` … `last`
 * (with one more on each side, as columnSums leaves them): output column 2c is (3·s[c] + s[c − 1]
 * + `evenBias`) >> `shift`, 2c + 1 is (3·s[c] + s[c + 1] + `oddBias`) >> `shift`, written from
 * `out` on (16 bytes of slack after the last).
 */
function upsampleAcross(sums: usize, first: i32, last: i32, evenBias: i32, oddBias: i32, shift: i32, out: usize): void {
  const even = i16x8.splat(<i16>evenBias);
  const odd = i16x8.splat(<i16>oddBias);
  for (let c = 0; c <= last - first; c += 8) {
    const at = sums + <usize>(c << 1);
    const here = i16x8.mul(v128.load(at, 2), i16x8.splat(3));
    const evens = i16x8.shr_s(i16x8.add(i16x8.add(here, v128.load(at)), even), shift);
    const odds = i16x8.shr_s(i16x8.add(i16x8.add(here, v128.load(at, 4)), odd), shift);
    const e = i8x16.narrow_i16x8_u(evens, evens);
    const o = i8x16.narrow_i16x8_u(odds, odds);
    v128.store(out + <usize>(c << 1), i8x16.shuffle(e, o, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
  }
}

/**
 * RGB of the window (`left`, `top`, `width`×`height`) into `out` (3·width bytes a row, and 8
 * bytes of slack), from the Y plane and, unless `chroma` is 0 (grey), Cb and Cr planes subsampled
 * by `chroma`: 1 (4:4:4), 2 (4:2:2, h2v1), 3 (4:2:0, h2v2), upsampled as jdsample.c's
 * h2v1/h2v2_fancy_upsample do. `chromaWidth`×`chromaHeight`: the chroma planes' real size
 * (libjpeg's downsampled size), whose last row and column stand in for what lies beyond. `row`:
 * scratch of 8·(width + 48) + 64 bytes.
 */
export function toRgb(y: usize, yStride: i32, cb: usize, cr: usize, cStride: i32, chroma: i32, chromaWidth: i32, chromaHeight: i32, left: i32, top: i32, width: i32, height: i32, row: usize, out: usize): void {
  // Chroma columns the window's columns fall in, and the scratch: column sums, then upsampled rows.
  const first = left >> 1;
  const last = (left + width - 1) >> 1;
  const span = width + 48;
  const cbSums = row;
  const crSums = row + <usize>(2 * span);
  const cbUp = row + <usize>(4 * span);
  const crUp = row + <usize>(6 * span);
  for (let j = 0; j < height; j++) {
    const yy = top + j;
    const yRow = y + <usize>(yy * yStride + left);
    const o = out + <usize>(j * width * 3);
    if (chroma == 0) {
      for (let i = 0; i < width; i++) {
        const v = load<u8>(yRow + <usize>i);
        store<u8>(o + <usize>(i * 3), v);
        store<u8>(o + <usize>(i * 3), v, 1);
        store<u8>(o + <usize>(i * 3), v, 2);
      }
      continue;
    }
    // Cb and Cr of the row's window columns at full resolution.
    let cbRow: usize;
    let crRow: usize;
    if (chroma == 1) {
      cbRow = cb + <usize>(yy * cStride + left);
      crRow = cr + <usize>(yy * cStride + left);
    } else if (chromaWidth <= 2) {
      // libjpeg upsamples chroma this narrow (an image of up to 4 columns) by repetition, not fancily.
      const c = chroma == 3 ? yy >> 1 : yy;
      for (let i = 0; i < width; i++) {
        const k = <usize>(c * cStride + ((left + i) >> 1));
        store<u8>(cbUp + <usize>i, load<u8>(cb + k));
        store<u8>(crUp + <usize>i, load<u8>(cr + k));
      }
      cbRow = cbUp;
      crRow = crUp;
    } else {
      // 4:2:0 weighs the nearer chroma row 3, the next nearest 1; 4:2:2 has one row.
      const near = chroma == 3 ? yy >> 1 : yy;
      const far = chroma == 3 ? (yy & 1 ? min(near + 1, chromaHeight - 1) : max(near - 1, 0)) : yy;
      const quarter = chroma == 3;
      columnSums(cb + <usize>(near * cStride), cb + <usize>(far * cStride), quarter ? 3 : 1, quarter ? 1 : 0, chromaWidth, first, last, cbSums);
      columnSums(cr + <usize>(near * cStride), cr + <usize>(far * cStride), quarter ? 3 : 1, quarter ? 1 : 0, chromaWidth, first, last, crSums);
      // h2v2: (3·sum + neighbour's + 8 or 7) >> 4; h2v1: (3·v + neighbour + 1 or 2) >> 2.
      upsampleAcross(cbSums, first, last, quarter ? 8 : 1, quarter ? 7 : 2, quarter ? 4 : 2, cbUp);
      upsampleAcross(crSums, first, last, quarter ? 8 : 1, quarter ? 7 : 2, quarter ? 4 : 2, crUp);
      cbRow = cbUp + <usize>(left & 1);
      crRow = crUp + <usize>(left & 1);
    }
    let i = 0;
    for (; i + 8 <= width; i += 8) convert8(yRow + <usize>i, cbRow + <usize>i, crRow + <usize>i, o + <usize>(i * 3));
    if (i < width) {
      // The last few pixels through a copy, so that convert8's 8-pixel loads and stores stay inside.
      const tail = row + <usize>(8 * span);
      for (let t = 0; t < 8; t++) {
        const from = <usize>min(i + t, width - 1);
        store<u8>(tail + <usize>t, load<u8>(yRow + from));
        store<u8>(tail + <usize>t, load<u8>(cbRow + from), 8);
        store<u8>(tail + <usize>t, load<u8>(crRow + from), 16);
      }
      convert8(tail, tail + 8, tail + 16, tail + 24);
      memory.copy(o + <usize>(i * 3), tail + 24, <usize>((width - i) * 3));
    }
  }
}
