// Raw tensor files: no header, row-major, little-endian (the fixtures' format and Paddock's
// checkpoint payloads).
import { readFileSync } from 'node:fs';
import { bytesPerElement, numel, tensor, type DType, type Tensor } from './index.ts';

export function readRawTensor<D extends DType>(path: string, dtype: D, shape: readonly number[]): Tensor<D> {
  const buf = readFileSync(path);
  const expected = numel(shape) * bytesPerElement(dtype);
  if (buf.byteLength !== expected) throw new RangeError(`${path}: ${buf.byteLength} bytes, expected ${expected} for ${dtype} [${shape.join(', ')}]`);
  // Node hands out small files in a shared pool at unaligned offsets: copy into an own buffer.
  const own = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data = { float32: Float32Array, float16: Uint16Array, uint8: Uint8Array, bool: Uint8Array, int32: Int32Array, int64: BigInt64Array }[dtype];
  return tensor(dtype, shape, new data(own) as never);
}
