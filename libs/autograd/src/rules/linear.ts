// Matrix products: Gemm (Linear with bias) and MatMul (Linear without bias, on 2-D or N-D input).
import { attrFloat, attrInt } from '@paddock/onnx';
import { defineGrad } from '../rule.ts';
import { reduceTo, reshape } from '../helpers.ts';

defineGrad('Gemm', ({ node, b, dy, shape, needs }) => {
  const [a, w, c] = node.inputs;
  const transA = attrInt(node, 'transA', 0);
  const transB = attrInt(node, 'transB', 0);
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const g = dy[0]!;
  const scaled = (x: string) => (alpha === 1 ? x : b.op('Mul', [x, b.scalar(alpha)]));
  // For Y = op(A)·op(B): dA and dB as Gemms with the transposes folded into flags.
  const grads: Record<string, [string, string, number, number]> = {
    '00': [g, w, 0, 1],
    '01': [g, w, 0, 0],
    '10': [w, g, 0, 1],
    '11': [w, g, 1, 1],
  };
  const gradsB: Record<string, [string, string, number, number]> = {
    '00': [a, g, 1, 0],
    '01': [g, a, 1, 0],
    '10': [a, g, 0, 0],
    '11': [g, a, 1, 1],
  };
  const key = `${transA}${transB}`;
  const gemm = ([x, y, ta, tb]: [string, string, number, number]) => b.op('Gemm', [x, y], { transA: ta, transB: tb });
  return [
    needs(0) ? scaled(gemm(grads[key])) : undefined,
    needs(1) ? scaled(gemm(gradsB[key])) : undefined,
    c && needs(2) ? reduceTo(b, beta === 1 ? g : b.op('Mul', [g, b.scalar(beta)]), shape(node.outputs[0]), shape(c)) : undefined,
  ];
});

defineGrad('MatMul', ({ node, b, dy, shape, needs }) => {
  const [a, w] = node.inputs;
  const [sa, sw, sy] = [shape(a), shape(w), shape(node.outputs[0])];
  const g = dy[0]!;
  const swapLast = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  let da: string | undefined;
  let dw: string | undefined;
  if (needs(0)) {
    const wt = b.op('Transpose', [w], { perm: swapLast(sw.length) });
    da = b.op('MatMul', [g, wt]);
    const daShape = [...sy.slice(0, -1), sw[sw.length - 2]];
    da = reduceTo(b, da, daShape, sa);
  }
  if (needs(1)) {
    if (sw.length === 2) {
      // A Linear on an N-D input: fold every leading dim into rows, one Gemm.
      const k = sa[sa.length - 1];
      const m = sy[sy.length - 1];
      dw = b.op('Gemm', [reshape(b, a, [-1, k]), reshape(b, g, [-1, m])], { transA: 1 });
    } else {
      const at = b.op('Transpose', [a], { perm: swapLast(sa.length) });
      const full = b.op('MatMul', [at, g]);
      const fullShape = [...sy.slice(0, -2), sa[sa.length - 1], sy[sy.length - 1]];
      dw = reduceTo(b, full, fullShape, sw);
    }
  }
  return [da, dw];
});
