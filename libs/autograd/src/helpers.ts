// Small graph idioms the gradient rules share: broadcasting reductions and constant shapes.
import type { GraphBuilder } from '@paddock/onnx';

/** Sum a broadcast gradient back to the shape of the operand it came from. */
export function reduceTo(b: GraphBuilder, grad: string, from: number[], to: number[]): string {
  if (from.join() === to.join()) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  let out = axes.length ? b.op('ReduceSum', [grad, b.int64s(axes, 'axes')], { keepdims: 1 }) : grad;
  if (lead > 0 || axes.length) out = b.op('Reshape', [out, b.int64s(to, 'shape')]);
  return out;
}

export function reshape(b: GraphBuilder, x: string, shape: number[]): string {
  return b.op('Reshape', [x, b.int64s(shape, 'shape')]);
}

/** Float 0/1 mask of a boolean condition (Cast + Mul beats Where on the CPU provider). */
export function mask(b: GraphBuilder, condition: string): string {
  return b.cast(condition, 'float32');
}

export function inversePermutation(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
