// Ops that only move values around: their gradients move the gradient back.
import { attrInt, attrInts, attrString, sliceGeometry } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
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

defineGrad('Slice', ({ node, b, dy, shape, constant }) => {
  const sx = shape(node.inputs[0]);
  const opt = (i: number) => (node.inputs[i] ? constant(node.inputs[i]) : undefined);
  const { begin, step, shape: sy } = sliceGeometry(sx, opt(1), opt(2), opt(3), opt(4));
  if (step.every((s) => s === 1)) {
    // A unit-step slice is a crop: its gradient pads dY back with zeros.
    const pads = [...begin, ...sx.map((d, i) => d - begin[i] - sy[i])];
    return [b.op('Pad', [dy[0]!, b.int64s(pads, 'pads')], { mode: 'constant' })];
  }
  // Strided or reversed: scatter dY to the flat positions it was read from.
  const total = sx.reduce((a, d) => a * d, 1);
  const count = sy.reduce((a, d) => a * d, 1);
  const strides = sx.map((_, i) => sx.slice(i + 1).reduce((a, d) => a * d, 1));
  const flat = new BigInt64Array(count);
  for (let j = 0; j < count; j++) {
    let rest = j;
    let k = 0;
    for (let i = sy.length - 1; i >= 0; i--) {
      const c = rest % sy[i];
      rest = Math.floor(rest / sy[i]);
      k += (begin[i] + c * step[i]) * strides[i];
    }
    flat[j] = BigInt(k);
  }
  const zeros = b.op('ConstantOfShape', [b.int64s([total], 'shape')], { value: tensor('float32', [1], Float32Array.of(0)) });
  const indices = b.constant(tensor('int64', [count], flat), 'slice_indices');
  return [reshape(b, b.op('ScatterElements', [zeros, indices, reshape(b, dy[0]!, [-1])], { axis: 0 }), sx)];
});

defineGrad('Split', ({ node, b, dy, shape }) => {
  const sx = shape(node.inputs[0]);
  const axis = (attrInt(node, 'axis', 0) + sx.length) % sx.length;
  // An output nothing reads has no gradient: zeros of its shape stand in.
  const parts = node.outputs.map((o, i) => dy[i] ?? b.constant(tensor('float32', shape(o), new Float32Array(shape(o).reduce((a, d) => a * d, 1))), 'split_zero'));
  return [b.op('Concat', parts, { axis }), undefined];
});

defineGrad('Pad', ({ node, b, dy, shape, constant }) => {
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant') throw new RangeError(`Pad "${node.name}": only constant-mode padding is differentiated (mode ${mode})`);
  const rank = shape(node.inputs[0]).length;
  const pads = constant(node.inputs[1]);
  if (!pads) throw new RangeError(`Pad "${node.name}": pads must be a build-time constant`);
  let p = Array.from(pads.data as BigInt64Array, Number);
  const axesT = node.inputs[3] ? constant(node.inputs[3]) : undefined;
  if (axesT) {
    // Opset 18 axes: expand to one begin/end pair per dimension.
    const axes = Array.from(axesT.data as BigInt64Array, Number).map((a) => (a + rank) % rank);
    const full = Array(2 * rank).fill(0);
    axes.forEach((a, i) => ((full[a] = p[i]), (full[a + rank] = p[i + axes.length])));
    p = full;
  }
  // Padding by −p crops exactly what padding by p added (and re-adds what a negative pad cut).
  return [b.op('Pad', [dy[0]!, b.int64s(p.map((v) => -v), 'pads')], { mode: 'constant' }), undefined, undefined, undefined];
});
