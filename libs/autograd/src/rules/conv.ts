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
    dx = b.op('ConvTranspose', [g, w], { kernel_shape: kernel, strides, pads, dilations, group, output_padding: outputPadding });
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
