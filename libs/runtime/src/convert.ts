import * as ort from 'onnxruntime-node';
import { tensor, type DType, type Tensor } from '@paddock/tensor';

export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as never, t.shape as number[]);
}

export function fromOrt(t: ort.Tensor): Tensor {
  const dtype = t.type as DType;
  if (!['float32', 'float16', 'uint8', 'int32', 'int64', 'bool'].includes(dtype)) throw new TypeError(`fromOrt: unsupported ORT tensor type ${t.type}`);
  return tensor(dtype, t.dims as number[], t.data as never);
}
