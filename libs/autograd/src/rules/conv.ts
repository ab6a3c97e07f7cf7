// Convolution: dX as a Conv with the kernel (or dY) spatially reversed (stride 1) or a
// ConvTranspose; dW per kernel tap or as a Conv over transposed operands (see weightGradient);
// dB as a reduction.
import { convGeometry, type GraphBuilder } from '@paddock/onnx';
import { numel } from '@paddock/tensor';
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
      // Stride 1: a plain Conv of dY with the transposed kernel, one of the two spatially reversed —
      // ORT's Conv is much faster than its ConvTranspose (for depthwise convs about 6×,
      // ort-training-notes.md).
      const [cout, cgIn, kh, kw] = sw;
      const fullPads = kernel.flatMap((_, i) => [dilations[i] * (kernel[i] - 1) - pads[i]]).concat(kernel.map((_, i) => dilations[i] * (kernel[i] - 1) - pads[i + n]));
      // Reversing a tensor's last two axes is an element-by-element copy: reverse whichever is
      // smaller, the kernel or dY and dX (deep layers: weights 4.5× their batch's activations).
      // conv(g, flip(k), pads b|e) = flip(conv(flip(g), k, pads e|b)).
      const reverses = kernel.some((k) => k > 1);
      const reverseDy = reverses && group === 1 && numel(sy) + numel(sx) < numel(sw);
      const kernelOperand = reverses && !reverseDy ? flipSpatial(b, w) : w;
      const swapped =
        group === 1
          ? b.op('Transpose', [kernelOperand], { perm: [1, 0, 2, 3] })
          : cgIn === 1 && cout === group
            ? kernelOperand
            : reshape(b, b.op('Transpose', [reshape(b, kernelOperand, [group, cout / group, cgIn, kh, kw])], { perm: [0, 2, 1, 3, 4] }), [group * cgIn, cout / group, kh, kw]);
      if (fullPads.every((p) => p >= 0)) {
        dx = reverseDy
          ? flipSpatial(b, b.op('Conv', [flipSpatial(b, g), swapped], { kernel_shape: kernel, dilations, pads: [...fullPads.slice(n), ...fullPads.slice(0, n)], group }))
          : b.op('Conv', [g, swapped], { kernel_shape: kernel, dilations, pads: fullPads, group });
      }
    }
    dx ??= b.op('ConvTranspose', [g, w], { kernel_shape: kernel, strides, pads, dilations, group, output_padding: outputPadding });
  }
  let dw: string | undefined;
  if (needs(1)) dw = weightGradient(b, x, g, sx, sw, sy, { kernel, pads, strides, dilations, group, out });
  const db = bias && needs(2) ? b.op('ReduceSum', [g, b.int64s([0, 2, 3], 'axes')], { keepdims: 0 }) : undefined;
  return [dx, dw, db];
});

/** x with its last two (spatial) axes reversed. */
function flipSpatial(b: GraphBuilder, x: string): string {
  return b.op('Slice', [x, b.int64s([-1, -1], 'starts'), b.int64s([-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], 'ends'), b.int64s([2, 3], 'axes'), b.int64s([-1, -1], 'steps')]);
}

interface Geometry {
  kernel: number[];
  pads: number[];
  strides: number[];
  dilations: number[];
  group: number;
  out: number[];
}

/**
 * dW. Dense and depthwise convs take the columns of X as k² (strided) windows of the padded,
 * channels-last X (tapWindow) and contract them with dY: one Gemm (dense) or a Mul + ReduceSum
 * (depthwise). ORT runs this far faster than a Conv whose "kernel" is dY (ort-training-notes.md:
 * that formulation cost 3× the forward) — except where X has fewer channels than the kernel has
 * taps (a 7×7 stem on RGB): there k² thin Gemms each re-read all of dY, while the Conv form
 * multiplies by k² columns at once (ResNet-18's stem dW: 5× faster). Other groupings keep the
 * Conv-over-transposed-operands form too, where stride and dilation swap roles.
 */
function weightGradient(b: GraphBuilder, x: string, g: string, sx: number[], sw: number[], sy: number[], geo: Geometry): string {
  const { kernel, pads, strides, dilations, group, out } = geo;
  const [batch, cin, h, wd] = sx;
  const [cout] = sw;
  const taps = kernel[0] * kernel[1];
  const positions = batch * out[0] * out[1];
  const depthwise = group === cin && group === cout && sw[1] === 1;
  if ((group === 1 && cin >= taps) || depthwise) {
    // X as [N, H, W, Cin], so each tap's Slice copies runs of ow·Cin contiguous values (runs of
    // ow values channels-first, of one value at stride 2: the copies cost half of dW's time).
    const unpadded = b.op('Transpose', [x], { perm: [0, 2, 3, 1] });
    const paddedNhwc = pads.some((p) => p > 0) ? b.op('Pad', [unpadded, b.int64s([0, pads[0], pads[1], 0, 0, pads[2], pads[3], 0], 'pads')]) : unpadded;
    // dY as [Cout, N·L] for the Gemms; as [N·L, C] for the depthwise products.
    const dy = depthwise ? reshape(b, b.op('Transpose', [g], { perm: [0, 2, 3, 1] }), [positions, cout]) : reshape(b, b.op('Transpose', [g], { perm: [1, 0, 2, 3] }), [cout, positions]);
    // One contraction per tap: k² products of [Cout, N·L]·[N·L, Cin] cost what one big Gemm
    // would, without concatenating k² copies of X first.
    const perTap: string[] = [];
    for (let kh = 0; kh < kernel[0]; kh++)
      for (let kw = 0; kw < kernel[1]; kw++) {
        const columns = reshape(b, tapWindow(b, paddedNhwc, unpadded, kh, kw, sx, geo), [positions, cin]);
        // depthwise: channel c only meets channel c, an elementwise product summed over N·L
        const tap = depthwise ? b.op('ReduceSum', [b.op('Mul', [columns, dy]), b.int64s([0], 'axes')], { keepdims: 1 }) : b.op('Gemm', [dy, columns]);
        perTap.push(reshape(b, tap, [cout, sw[1], 1]));
      }
    return reshape(b, taps === 1 ? perTap[0] : b.op('Concat', perTap, { axis: 2 }), sw);
  }
  const cg = cin / group;
  // X as [Cg, group·N, H, W]: batch becomes the channels a grouped Conv sums over.
  const xg = reshape(b, b.op('Transpose', [reshape(b, x, [batch, group, cg, h, wd])], { perm: [2, 1, 0, 3, 4] }), [cg, group * batch, h, wd]);
  const gt = b.op('Transpose', [g], { perm: [1, 0, 2, 3] }); // [Cout, N, oh, ow]
  let full = b.op('Conv', [xg, gt], { kernel_shape: sy.slice(2), strides: dilations, dilations: strides, pads, group });
  const n = kernel.length;
  const fullSize = sx.slice(2).map((size, i) => Math.floor((size + pads[i] + pads[i + n] - strides[i] * (out[i] - 1) - 1) / dilations[i]) + 1);
  if (fullSize.some((s, i) => s !== kernel[i])) full = b.op('Slice', [full, b.int64s([0, 0], 'starts'), b.int64s(kernel, 'ends'), b.int64s([2, 3], 'axes')]);
  return b.op('Transpose', [full], { perm: [1, 0, 2, 3] });
}

/**
 * The [N, oh, ow, Cin] window of padded NHWC X that kernel tap (kh, kw) meets. A stride-1 tap
 * whose window is exactly the unpadded X (the centre of a 'same' conv) is X itself: no copy.
 */
function tapWindow(b: GraphBuilder, padded: string, unpadded: string, kh: number, kw: number, sx: number[], geo: Geometry): string {
  const { pads, strides, dilations, out } = geo;
  const [top, left] = [kh * dilations[0], kw * dilations[1]];
  const stride1 = strides.every((s) => s === 1);
  if (stride1 && top === pads[0] && left === pads[1] && out[0] === sx[2] && out[1] === sx[3]) return unpadded;
  const paddedH = sx[2] + pads[0] + pads[2];
  const paddedW = sx[3] + pads[1] + pads[3];
  const ends = [top + (out[0] - 1) * strides[0] + 1, left + (out[1] - 1) * strides[1] + 1];
  if (stride1 && top === 0 && left === 0 && ends[0] === paddedH && ends[1] === paddedW) return padded;
  return b.op('Slice', [padded, b.int64s([top, left], 'starts'), b.int64s(ends, 'ends'), b.int64s([1, 2], 'axes'), b.int64s(strides, 'steps')]);
}
