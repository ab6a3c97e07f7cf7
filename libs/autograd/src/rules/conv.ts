// Convolution: dX as one ConvTranspose, dW as one Conv over transposed operands (stride and
// dilation swap roles), grouped and depthwise convs included; dB as a reduction.
import { convGeometry } from '@paddock/onnx';
import { defineGrad } from '../rule.ts';
import { reshape } from '../helpers.ts';

defineGrad('Conv', ({ node, b, dy, shape, needs }) => {
  const [x, w, bias] = node.inputs;
  const [sx, sw] = [shape(x), shape(w)];
  const sy = shape(node.outputs[0]);
  const { kernel, pads, strides, dilations, group, out } = convGeometry(node, sx, sw);
  const n = kernel.length;
  if (n !== 2) throw new RangeError(`Conv "${node.name}": only 2-D convolutions are differentiated`);
  const g = dy[0]!;
  let dx: string | undefined;
  if (needs(0)) {
    // Rows/cols of X that no window reached need output_padding to restore X's size.
    const outputPadding = sx.slice(2).map((size, i) => size - ((out[i] - 1) * strides[i] - pads[i] - pads[i + n] + dilations[i] * (kernel[i] - 1) + 1));
    if (strides.every((s) => s === 1) && outputPadding.every((p) => p === 0)) {
      // Stride 1: a plain Conv of dY with the flipped, transposed kernel — ORT's Conv is much faster
      // than its ConvTranspose (for depthwise convs about 6×, ort-training-notes.md).
      const [cout, cgIn, kh, kw] = sw;
      const flipped = b.op('Slice', [w, b.int64s([-1, -1], 'starts'), b.int64s([-(kh + 1), -(kw + 1)], 'ends'), b.int64s([2, 3], 'axes'), b.int64s([-1, -1], 'steps')]);
      const swapped =
        group === 1
          ? b.op('Transpose', [flipped], { perm: [1, 0, 2, 3] })
          : cgIn === 1 && cout === group
            ? flipped
            : reshape(b, b.op('Transpose', [reshape(b, flipped, [group, cout / group, cgIn, kh, kw])], { perm: [0, 2, 1, 3, 4] }), [group * cgIn, cout / group, kh, kw]);
      const fullPads = kernel.flatMap((_, i) => [dilations[i] * (kernel[i] - 1) - pads[i]]).concat(kernel.map((_, i) => dilations[i] * (kernel[i] - 1) - pads[i + n]));
      dx = fullPads.every((p) => p >= 0) ? b.op('Conv', [g, swapped], { kernel_shape: kernel, dilations, pads: fullPads, group }) : undefined;
    }
    dx ??= b.op('ConvTranspose', [g, w], { kernel_shape: kernel, strides, pads, dilations, group, output_padding: outputPadding });
  }
  let dw: string | undefined;
  if (needs(1)) {
    const [batch, cin, h, wd] = sx;
    const cg = cin / group;
    // X as [Cg, group·N, H, W]: batch becomes the channels a grouped Conv sums over.
    const xt =
      group === 1
        ? b.op('Transpose', [x], { perm: [1, 0, 2, 3] })
        : reshape(b, b.op('Transpose', [reshape(b, x, [batch, group, cg, h, wd])], { perm: [2, 1, 0, 3, 4] }), [cg, group * batch, h, wd]);
    const gt = b.op('Transpose', [g], { perm: [1, 0, 2, 3] }); // [Cout, N, oh, ow]
    let full = b.op('Conv', [xt, gt], { kernel_shape: sy.slice(2), strides: dilations, dilations: strides, pads, group });
    const fullSize = sx.slice(2).map((size, i) => Math.floor((size + pads[i] + pads[i + n] - strides[i] * (out[i] - 1) - 1) / dilations[i]) + 1);
    if (fullSize.some((s, i) => s !== kernel[i])) {
      full = b.op('Slice', [full, b.int64s([0, 0], 'starts'), b.int64s(kernel, 'ends'), b.int64s([2, 3], 'axes')]);
    }
    dw = b.op('Transpose', [full], { perm: [1, 0, 2, 3] });
  }
  const db = bias && needs(2) ? b.op('ReduceSum', [g, b.int64s([0, 2, 3], 'axes')], { keepdims: 0 }) : undefined;
  return [dx, dw, db];
});
