// Reductions: the gradient is dY broadcast back over the reduced axes (divided by the count for
// a mean). Axes come from the attribute (opset < 18 ReduceMean) or the constant axes input.
import { attrInt, attrInts, type Node } from '@paddock/onnx';
import type { GradContext } from '../rule.ts';
import { defineGrad } from '../rule.ts';
import { reshape } from '../helpers.ts';

function reducedAxes(node: Node, ctx: GradContext, rank: number): number[] {
  const attr = attrInts(node, 'axes', undefined);
  const input = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
  if (node.inputs[1] && !input) throw new RangeError(`${node.opType} "${node.name}": axes must be a build-time constant`);
  const axes = attr ?? (input ? Array.from(input.data as BigInt64Array, Number) : []);
  if (axes.length === 0) return attrInt(node, 'noop_with_empty_axes', 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => (a + rank) % rank);
}

for (const op of ['ReduceSum', 'ReduceMean']) {
  defineGrad(op, (ctx) => {
    const { node, b, dy, shape } = ctx;
    const sx = shape(node.inputs[0]);
    const axes = reducedAxes(node, ctx, sx.length);
    const kept = sx.map((d, i) => (axes.includes(i) ? 1 : d));
    let g = reshape(b, dy[0]!, kept);
    if (op === 'ReduceMean') g = b.op('Mul', [g, b.scalar(1 / axes.reduce((a, i) => a * sx[i], 1))]);
    return [b.op('Expand', [g, b.int64s(sx, 'shape')]), undefined];
  });
}
