// Ops that only move values around: their gradients move the gradient back.
import { attrInt, attrInts } from '@paddock/onnx';
import { defineGrad } from '../rule.ts';
import { inversePermutation, reshape } from '../helpers.ts';

defineGrad(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze'], ({ node, b, dy, shape }) => [reshape(b, dy[0]!, shape(node.inputs[0]))]);

defineGrad('Transpose', ({ node, b, dy, shape }) => {
  const rank = shape(node.inputs[0]).length;
  const perm = attrInts(node, 'perm', undefined) ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  return [b.op('Transpose', [dy[0]!], { perm: inversePermutation(perm) })];
});

defineGrad('Concat', ({ node, b, dy, shape, needs }) => {
  const rank = shape(node.inputs[0]).length;
  const axis = (attrInt(node, 'axis', 0) + rank) % rank;
  const sizes = node.inputs.map((x) => shape(x)[axis]);
  const parts = b.opN('Split', [dy[0]!, b.int64s(sizes, 'split')], { axis }, { outputs: sizes.length });
  return parts.map((p, i) => (needs(i) ? p : undefined));
});

defineGrad('Expand', ({ node, b, dy, shape }) => {
  const from = shape(node.outputs[0]);
  const to = shape(node.inputs[0]);
  const lead = from.length - to.length;
  const axes = from.flatMap((d, i) => (i < lead || (to[i - lead] === 1 && d !== 1) ? [i] : []));
  const summed = axes.length ? b.op('ReduceSum', [dy[0]!, b.int64s(axes, 'axes')], { keepdims: 1 }) : dy[0]!;
  return [reshape(b, summed, to), undefined];
});
