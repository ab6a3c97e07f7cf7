// Pooling: max pool through its Indices output and one ScatterElements(add); average pools as a
// depthwise ConvTranspose of ones over dY divided by each window's element count.
import { attrInt, poolGeometry } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
import { defineGrad } from '../rule.ts';
import { mask, reshape } from '../helpers.ts';

defineGrad('MaxPool', ({ node, b, dy, shape }) => {
  const indices = node.outputs[1];
  if (!indices) throw new Error(`MaxPool "${node.name}": the training form must expose its Indices output`);
  const sx = shape(node.inputs[0]);
  const total = sx.reduce((a, c) => a * c, 1);
  // Indices are flat over N·C·H·W, so one scatter into a flat zero tensor routes every dY.
  const zeros = b.op('ConstantOfShape', [b.int64s([total], 'shape')], { value: tensor('float32', [1], Float32Array.of(0)) });
  const scattered = b.op('ScatterElements', [zeros, reshape(b, indices, [-1]), reshape(b, dy[0]!, [-1])], { axis: 0, reduction: 'add' });
  return [reshape(b, scattered, sx)];
});

defineGrad('GlobalAveragePool', ({ node, b, dy, shape }) => {
  const sx = shape(node.inputs[0]);
  const area = sx.slice(2).reduce((a, c) => a * c, 1);
  return [b.op('Expand', [b.op('Mul', [dy[0]!, b.scalar(1 / area)]), b.int64s(sx, 'shape')])];
});

defineGrad('GlobalMaxPool', ({ node, b, dy }) => {
  const hit = b.op('Equal', [node.inputs[0], node.outputs[0]]);
  return [b.op('Mul', [dy[0]!, mask(b, hit)])];
});

defineGrad('AveragePool', ({ node, b, dy, shape }) => {
  const sx = shape(node.inputs[0]);
  const { kernel, pads, strides, out } = poolGeometry(node, sx);
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const n = kernel.length;
  if (n !== 2) throw new RangeError(`AveragePool "${node.name}": only 2-D pools are differentiated`);
  // Divisor per output cell, as PyTorch counts it (ceil-mode overhang never counts).
  const counts = new Float32Array(out[0] * out[1]);
  const extent = (o: number, i: number) => {
    const start = o * strides[i] - pads[i];
    const end = Math.min(start + kernel[i], sx[i + 2] + pads[i + n]);
    return includePad ? end - start : Math.min(end, sx[i + 2]) - Math.max(start, 0);
  };
  for (let r = 0; r < out[0]; r++) for (let c = 0; c < out[1]; c++) counts[r * out[1] + c] = 1 / (extent(r, 0) * extent(c, 1));
  const scaled = b.op('Mul', [dy[0]!, b.constant(tensor('float32', [1, 1, out[0], out[1]], counts), 'inv_count')]);
  const channels = sx[1];
  const ones = b.constant(tensor('float32', [channels, 1, ...kernel], new Float32Array(channels * kernel[0] * kernel[1]).fill(1)), 'ones');
  // Crop (or pad) the transposed conv's output to exactly X's size.
  const endPads = [0, 1].map((i) => strides[i] * (out[i] - 1) + kernel[i] - pads[i] - sx[i + 2]);
  const dx = b.op('ConvTranspose', [scaled, ones], {
    kernel_shape: kernel,
    strides,
    group: channels,
    pads: [pads[0], pads[1], Math.max(0, endPads[0]), Math.max(0, endPads[1])],
    output_padding: endPads.map((p) => Math.max(0, -p)),
  });
  return [dx];
});
