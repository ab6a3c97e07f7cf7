// AssemblyScript (compiled with jpeg.ts into src/pixels.wasm by `npm run generate`): the two passes of PIL's
// 8-bit convolution resample (Resample.c, ImagingResampleHorizontal/Vertical_8bpc) on RGB rows,
// with WebAssembly SIMD. The coefficients, bounds and memory layout come from src/resample.ts;
// the arithmetic is PIL's to the bit: 22-bit fixed-point weights, a rounding half added, each
// pass's sum shifted back and clamped to 0..255.

const PRECISION_BITS: i32 = 22;
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/** Shift four sums back to 8 bits and clamp them (the saturating narrows clamp to 0..255). */
@inline function clamp8(sums: v128): v128 {
  const shifted = i32x4.shr_s(sums, PRECISION_BITS);
  const words = i16x8.narrow_i32x4_s(shifted, shifted);
  return i8x16.narrow_i16x8_u(words, words);
}

/**
 * Resample `rows` rows of RGB across: output pixel x of a row sums `bounds[2x + 1]` input pixels
 * from `bounds[2x]` on, weighted by `weights[x·taps …]`. One pixel's three channels ride in one
 * vector (the fourth lane carries the next pixel's red and is dropped), so each tap is one load,
 * one multiply and one add. Reads one byte past a row's last pixel: the caller pads the input.
 */
export function horizontal(src: usize, srcStride: i32, rows: i32, outWidth: i32, bounds: usize, weights: usize, taps: i32, dst: usize): void {
  for (let y = 0; y < rows; y++) {
    const row = src + <usize>(y * srcStride);
    let out = dst + <usize>(y * outWidth * 3);
    for (let x = 0; x < outWidth; x++) {
      const first = load<i32>(bounds + (<usize>x << 3));
      const count = load<i32>(bounds + (<usize>x << 3), 4);
      let weight = weights + <usize>(x * taps * 4);
      let pixel = row + <usize>(first * 3);
      let sums = i32x4.splat(HALF);
      for (let i = 0; i < count; i++) {
        const rgb = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(pixel)));
        sums = i32x4.add(sums, i32x4.mul(rgb, i32x4.splat(load<i32>(weight))));
        pixel += 3;
        weight += 4;
      }
      const bytes = clamp8(sums);
      store<u16>(out, i16x8.extract_lane_u(bytes, 0));
      store<u8>(out, i8x16.extract_lane_u(bytes, 2), 2);
      out += 3;
    }
  }
}

/**
 * Resample down the columns: output row y sums `bounds[2y + 1]` rows of `src` from `bounds[2y]`
 * on, `stride` bytes each, sixteen bytes at a time (any channel: the weight is per row).
 */
export function vertical(src: usize, stride: i32, outHeight: i32, bounds: usize, weights: usize, taps: i32, dst: usize): void {
  for (let y = 0; y < outHeight; y++) {
    const first = load<i32>(bounds + (<usize>y << 3));
    const count = load<i32>(bounds + (<usize>y << 3), 4);
    const rowWeights = weights + <usize>(y * taps * 4);
    const top = src + <usize>(first * stride);
    const out = dst + <usize>(y * stride);
    let b = 0;
    for (; b + 16 <= stride; b += 16) {
      let s0 = i32x4.splat(HALF);
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      let at = top + <usize>b;
      for (let i = 0; i < count; i++) {
        const w = i32x4.splat(load<i32>(rowWeights + (<usize>i << 2)));
        const bytes = v128.load(at);
        const low = i16x8.extend_low_i8x16_u(bytes);
        const high = i16x8.extend_high_i8x16_u(bytes);
        s0 = i32x4.add(s0, i32x4.mul(i32x4.extend_low_i16x8_u(low), w));
        s1 = i32x4.add(s1, i32x4.mul(i32x4.extend_high_i16x8_u(low), w));
        s2 = i32x4.add(s2, i32x4.mul(i32x4.extend_low_i16x8_u(high), w));
        s3 = i32x4.add(s3, i32x4.mul(i32x4.extend_high_i16x8_u(high), w));
        at += <usize>stride;
      }
      const words01 = i16x8.narrow_i32x4_s(i32x4.shr_s(s0, PRECISION_BITS), i32x4.shr_s(s1, PRECISION_BITS));
      const words23 = i16x8.narrow_i32x4_s(i32x4.shr_s(s2, PRECISION_BITS), i32x4.shr_s(s3, PRECISION_BITS));
      v128.store(out + <usize>b, i8x16.narrow_i16x8_u(words01, words23));
    }
    for (; b < stride; b++) {
      let sum = HALF;
      let at = top + <usize>b;
      for (let i = 0; i < count; i++) {
        sum += <i32>load<u8>(at) * load<i32>(rowWeights + (<usize>i << 2));
        at += <usize>stride;
      }
      sum >>= PRECISION_BITS;
      store<u8>(out + <usize>b, <u8>(sum < 0 ? 0 : sum > 255 ? 255 : sum));
    }
  }
}
