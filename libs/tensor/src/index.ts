// The one tensor type every Paddock package shares: a dtype, a shape and a flat typed array in
// row-major order. Conversions to onnxruntime tensors live in libs/runtime; this stays dependency-free.
export type DType = 'float32' | 'float16' | 'uint8' | 'int32' | 'int64' | 'bool';

export type DataOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float16'
    ? Uint16Array
    : D extends 'uint8' | 'bool'
      ? Uint8Array
      : D extends 'int32'
        ? Int32Array
        : BigInt64Array;

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DataOf<D>;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor<D extends DType>(dtype: D, shape: readonly number[], data: DataOf<D>): Tensor<D> {
  if (data.length !== numel(shape)) {
    throw new RangeError(`tensor: ${data.length} values do not fill shape [${shape.join(', ')}] (${numel(shape)} needed)`);
  }
  return { dtype, shape: [...shape], data };
}

export function zeros(shape: readonly number[]): Tensor<'float32'> {
  return tensor('float32', shape, new Float32Array(numel(shape)));
}

export function full(shape: readonly number[], value: number): Tensor<'float32'> {
  return tensor('float32', shape, new Float32Array(numel(shape)).fill(value));
}

export function scalar(value: number): Tensor<'float32'> {
  return tensor('float32', [], Float32Array.of(value));
}

export function int64(shape: readonly number[], values: ArrayLike<number | bigint>): Tensor<'int64'> {
  return tensor('int64', shape, BigInt64Array.from(Array.from(values, (v) => BigInt(v))));
}

/** Bytes per element, as stored in raw tensor files and ONNX raw_data. */
export function bytesPerElement(dtype: DType): number {
  return { float32: 4, float16: 2, uint8: 1, int32: 4, int64: 8, bool: 1 }[dtype];
}

export interface Stats {
  min: number;
  max: number;
  mean: number;
  std: number;
  absMax: number;
}

export function stats(t: Tensor): Stats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  const n = t.data.length;
  for (let i = 0; i < n; i++) {
    const v = Number(t.data[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
  }
  const mean = n ? sum / n : NaN;
  return { min, max, mean, std: n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : NaN, absMax: Math.max(Math.abs(min), Math.abs(max)) };
}

/** ‖a − b‖ / ‖b‖: the relative error measure the fixtures use. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`relL2: lengths differ (${a.length} vs ${b.length})`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** NHWC uint8 image batch → NCHW float32 in [0, 1] (the layout models read). */
export function nhwcToNchw(t: Tensor<'uint8'>): Tensor<'float32'> {
  const [n, h, w, c] = t.shape;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = t.data[((b * h + y) * w + x) * c + k] / 255;
  return tensor('float32', [n, c, h, w], out);
}
export { Random } from './random.ts';
export { readRawTensor } from './raw.ts';
