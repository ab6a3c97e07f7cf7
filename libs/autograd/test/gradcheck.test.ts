// Finite-difference checks of every gradient rule for the ops exported models contain: a float64
// JS reference, central differences, against the ONNX-computed vector-Jacobian product.
import { describe, expect, it } from 'vitest';
import { tensor } from '@paddock/tensor';
import { float, type GraphBuilder } from '@paddock/onnx';
import { gather, gradCheck, map, ravel, reduce, softmax, unravel, type FdCase } from './fd.ts';

const sig = (v: number) => 1 / (1 + Math.exp(-v));
const hsig = (v: number, a = 0.2, b = 0.5) => Math.min(1, Math.max(0, a * v + b));
const i64 = (b: GraphBuilder, v: number[]) => b.int64s(v);
const constNode = (b: GraphBuilder, value: number) => b.op('Constant', [], { value: tensor('float32', [], Float32Array.of(value)) });

const cases: FdCase[] = [
  { name: 'Sigmoid', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (b, [x]) => [b.op('Sigmoid', [x])], reference: ([x]) => [map(x, sig)] },
  {
    name: 'HardSigmoid',
    inputs: [{ name: 'x', shape: [3, 8], range: [-4, 4], avoid: [-2.5, 2.5] }],
    build: (b, [x]) => [b.op('HardSigmoid', [x])],
    reference: ([x]) => [map(x, (v) => hsig(v))],
  },
  {
    name: 'HardSigmoid alpha=1/6',
    inputs: [{ name: 'x', shape: [3, 8], range: [-4, 4], avoid: [-3, 3] }],
    build: (b, [x]) => [b.op('HardSigmoid', [x], { alpha: 1 / 6, beta: 0.5 })],
    reference: ([x]) => [map(x, (v) => hsig(v, Math.fround(1 / 6)))],
  },
  {
    name: 'HardSwish',
    inputs: [{ name: 'x', shape: [4, 8], range: [-5, 5], avoid: [-3, 3] }],
    build: (b, [x]) => [b.op('HardSwish', [x])],
    reference: ([x]) => [map(x, (v) => v * hsig(v, 1 / 6))],
  },
  { name: 'SiLU (Mul+Sigmoid)', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (b, [x]) => [b.op('Mul', [x, b.op('Sigmoid', [x])])], reference: ([x]) => [map(x, (v) => v * sig(v))] },
  { name: 'Softmax axis 1', inputs: [{ name: 'x', shape: [2, 5, 3] }], build: (b, [x]) => [b.op('Softmax', [x], { axis: 1 })], reference: ([x]) => [softmax(x, [2, 5, 3], 1, false)] },
  { name: 'LogSoftmax axis -1', inputs: [{ name: 'x', shape: [3, 6] }], build: (b, [x]) => [b.op('LogSoftmax', [x], { axis: -1 })], reference: ([x]) => [softmax(x, [3, 6], 1, true)] },
  { name: 'Reshape', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (b, [x]) => [b.op('Sigmoid', [b.op('Reshape', [x, i64(b, [4, -1])])])], reference: ([x]) => [map(x, sig)] },
  { name: 'Flatten axis 2', inputs: [{ name: 'x', shape: [2, 3, 2, 2] }], build: (b, [x]) => [b.op('Sigmoid', [b.op('Flatten', [x], { axis: 2 })])], reference: ([x]) => [map(x, sig)] },
  {
    name: 'Transpose',
    inputs: [{ name: 'x', shape: [2, 3, 4] }],
    build: (b, [x]) => [b.op('Transpose', [b.op('Sigmoid', [x])], { perm: [2, 0, 1] })],
    reference: ([x]) => [gather(map(x, sig), [4, 2, 3], ([k, i, j]) => ravel([i, j, k], [2, 3, 4]))],
  },
  {
    name: 'Concat axis 1',
    inputs: [{ name: 'a', shape: [2, 2, 3] }, { name: 'c', shape: [2, 3, 3] }],
    build: (b, [a, c]) => [b.op('Sigmoid', [b.op('Concat', [a, c], { axis: 1 })])],
    reference: ([a, c]) => [map(gather(new Float64Array([...a, ...c]), [2, 5, 3], ([n, ch, k]) => (ch < 2 ? ravel([n, ch, k], [2, 2, 3]) : 12 + ravel([n, ch - 2, k], [2, 3, 3]))), sig)],
  },
  {
    name: 'Slice (crop, step 1)',
    inputs: [{ name: 'x', shape: [3, 6] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Slice', [x, i64(b, [1, 1]), i64(b, [3, -1]), i64(b, [0, 1])])])],
    reference: ([x]) => [map(gather(x, [2, 4], ([i, j]) => ravel([i + 1, j + 1], [3, 6])), sig)],
  },
  {
    name: 'Slice (step 2 and step -1)',
    inputs: [{ name: 'x', shape: [3, 7] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Slice', [x, i64(b, [0, -1]), i64(b, [100, -100]), i64(b, [1, 0]), i64(b, [2, -1])])])],
    reference: ([x]) => [map(gather(x, [3, 4], ([i, j]) => ravel([2 - i, 2 * j], [3, 7])), sig)],
  },
  {
    name: 'Split (both outputs used)',
    inputs: [{ name: 'x', shape: [2, 5] }],
    build: (b, [x]) => {
      const [p, q] = b.opN('Split', [x, i64(b, [2, 3])], { axis: 1 }, { outputs: 2 });
      return [b.op('Sigmoid', [p]), b.op('Mul', [q, q])];
    },
    reference: ([x]) => [map(gather(x, [2, 2], ([i, j]) => ravel([i, j], [2, 5])), sig), map(gather(x, [2, 3], ([i, j]) => ravel([i, j + 2], [2, 5])), (v) => v * v)],
  },
  {
    name: 'Split (one output unused)',
    inputs: [{ name: 'x', shape: [6, 2] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.opN('Split', [x, i64(b, [2, 4])], { axis: 0 }, { outputs: 2 })[1]])],
    reference: ([x]) => [map(x.slice(4), sig)],
  },
  {
    name: 'Pad (constant, with a negative pad)',
    inputs: [{ name: 'x', shape: [2, 3, 4] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Pad', [x, i64(b, [0, 1, -1, 0, 2, 1]), b.constant(tensor('float32', [], Float32Array.of(0.5)))], { mode: 'constant' })])],
    reference: ([x]) => [
      map(
        gather(x, [2, 6, 4], ([n, i, j]) => (i - 1 >= 0 && i - 1 < 3 && j + 1 < 4 ? ravel([n, i - 1, j + 1], [2, 3, 4]) : undefined)).map((v, k) => {
          const [, i, j] = unravel(k, [2, 6, 4]);
          return i - 1 >= 0 && i - 1 < 3 && j + 1 < 4 ? v : 0.5;
        }),
        sig,
      ),
    ],
  },
  {
    name: 'Squeeze / Unsqueeze',
    inputs: [{ name: 'x', shape: [2, 1, 3] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Unsqueeze', [b.op('Squeeze', [x, i64(b, [1])]), i64(b, [0, 3])])])],
    reference: ([x]) => [map(x, sig)],
  },
  {
    name: 'Expand',
    inputs: [{ name: 'x', shape: [3, 1] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Expand', [x, i64(b, [2, 3, 4])])])],
    reference: ([x]) => [map(gather(x, [2, 3, 4], ([, i]) => i), sig)],
  },
  {
    name: 'ReduceMean (axes attribute, keepdims 0)',
    inputs: [{ name: 'x', shape: [2, 3, 4] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('ReduceMean', [x], { axes: [1], keepdims: 0 })])],
    reference: ([x]) => [map(reduce(x, [2, 3, 4], [1], true), sig)],
  },
  {
    name: 'ReduceSum (axes input, keepdims 1)',
    inputs: [{ name: 'x', shape: [2, 3, 4] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('ReduceSum', [x, i64(b, [0, 2])], { keepdims: 1 })])],
    reference: ([x]) => [map(reduce(x, [2, 3, 4], [0, 2], false), sig)],
  },
  { name: 'Pow (x², Constant exponent)', inputs: [{ name: 'x', shape: [3, 4] }], build: (b, [x]) => [b.op('Pow', [x, constNode(b, 2)])], reference: ([x]) => [map(x, (v) => v * v)] },
  { name: 'Pow (x^3)', inputs: [{ name: 'x', shape: [3, 4] }], build: (b, [x]) => [b.op('Pow', [x, b.scalar(3)])], reference: ([x]) => [map(x, (v) => v ** 3)] },
  { name: 'Sqrt', inputs: [{ name: 'x', shape: [3, 4], range: [0.5, 3] }], build: (b, [x]) => [b.op('Sqrt', [x])], reference: ([x]) => [map(x, Math.sqrt)] },
  {
    name: 'Div (broadcast)',
    inputs: [{ name: 'x', shape: [2, 3] }, { name: 'y', shape: [3], range: [0.5, 2] }],
    build: (b, [x, y]) => [b.op('Div', [x, y])],
    reference: ([x, y]) => [map(x, (v, i) => v / y[i % 3])],
  },
  { name: 'Identity + Constant', inputs: [{ name: 'x', shape: [5] }], build: (b, [x]) => [b.op('Mul', [b.op('Identity', [x]), constNode(b, 1.5)])], reference: ([x]) => [map(x, (v) => v * Math.fround(1.5))] },
  {
    name: 'Dropout (training mode, fed mask, ratio 0.3)',
    inputs: [{ name: 'x', shape: [4, 6] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Dropout', [x, b.constant(tensor('float32', [], Float32Array.of(0.3)))])])],
    reference: ([x], [mask]) => [map(x, (v, i) => sig(v * Math.fround(mask[i])))],
  },
  {
    name: 'LayerNormalization (last two dims, scale and bias)',
    inputs: [{ name: 'x', shape: [2, 3, 4] }, { name: 'g', shape: [3, 4], range: [0.5, 1.5] }, { name: 'beta', shape: [3, 4] }],
    build: (b, [x, g, beta]) => [b.op('LayerNormalization', [x, g, beta], { axis: 1, epsilon: 1e-5 })],
    reference: ([x, g, beta]) => {
      const mean = reduce(x, [2, 3, 4], [1, 2], true);
      const centred = map(x, (v, i) => v - mean[Math.floor(i / 12)]);
      const variance = reduce(map(centred, (v) => v * v), [2, 3, 4], [1, 2], true);
      return [map(centred, (v, i) => (v / Math.sqrt(variance[Math.floor(i / 12)] + Math.fround(1e-5))) * g[i % 12] + beta[i % 12])];
    },
  },
  {
    name: 'Mean (elementwise, broadcast)',
    inputs: [{ name: 'a', shape: [2, 3] }, { name: 'c', shape: [3] }],
    build: (b, [a, c]) => [b.op('Sigmoid', [b.op('Mean', [a, c])])],
    reference: ([a, c]) => [map(a, (v, i) => sig((v + c[i % 3]) / 2))],
  },
  {
    name: 'Cast float32 → float32',
    inputs: [{ name: 'x', shape: [4] }],
    build: (b, [x]) => [b.op('Sigmoid', [b.op('Cast', [x], { to: 1 })])],
    reference: ([x]) => [map(x, sig)],
  },
];

/** Y = α·op(A)·op(B) + β·C in float64, op = transpose when the flag is set. */
function gemmRef(a: Float64Array, bm: Float64Array, c: Float64Array, m: number, k: number, n: number, ta: number, tb: number, alpha: number, beta: number, cShape: number[]) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (ta ? a[t * m + i] : a[i * k + t]) * (tb ? bm[j * k + t] : bm[t * n + j]);
      const ci = cShape.length === 2 ? (cShape[0] === 1 ? 0 : i) * cShape[1] + (cShape[1] === 1 ? 0 : j) : cShape[0] === 1 ? 0 : j;
      out[i * n + j] = alpha * s + beta * c[ci];
    }
  return out;
}

const gemmCases: FdCase[] = [0, 1].flatMap((ta) =>
  [0, 1].map((tb): FdCase => {
    const [m, k, n] = [3, 4, 2];
    return {
      name: `Gemm transA=${ta} transB=${tb}, alpha 0.5, beta 2, C broadcast`,
      inputs: [{ name: 'a', shape: ta ? [k, m] : [m, k] }, { name: 'w', shape: tb ? [n, k] : [k, n] }, { name: 'c', shape: [1, n] }],
      build: (b, [a, w, c]) => [b.op('Gemm', [a, w, c], { transA: ta, transB: tb, alpha: 0.5, beta: float(2) })],
      reference: ([a, w, c]) => [gemmRef(a, w, c, m, k, n, ta, tb, 0.5, 2, [1, n])],
    };
  }),
);

function matmulRef(a: Float64Array, bm: Float64Array, sa: number[], sb: number[]): Float64Array {
  // Batched with broadcasting: sa = [..., m, k], sb = [..., k, n].
  const rank = Math.max(sa.length, sb.length);
  const pa = [...Array(rank - sa.length).fill(1), ...sa];
  const pb = [...Array(rank - sb.length).fill(1), ...sb];
  const batch = pa.slice(0, -2).map((d, i) => Math.max(d, pb[i]));
  const [m, k, n] = [pa[rank - 2], pa[rank - 1], pb[rank - 1]];
  const count = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(count * m * n);
  for (let t = 0; t < count; t++) {
    const idx = unravel(t, batch);
    const ia = ravel(idx.map((v, i) => (pa[i] === 1 ? 0 : v)), pa.slice(0, -2));
    const ib = ravel(idx.map((v, i) => (pb[i] === 1 ? 0 : v)), pb.slice(0, -2));
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a[(ia * m + i) * k + q] * bm[(ib * k + q) * n + j];
        out[(t * m + i) * n + j] = s;
      }
  }
  return out;
}

cases.push(
  ...gemmCases,
  {
    name: 'MatMul batched, both operands, broadcast batch dims',
    inputs: [{ name: 'a', shape: [2, 1, 3, 4] }, { name: 'w', shape: [3, 4, 2] }],
    build: (b, [a, w]) => [b.op('MatMul', [a, w])],
    reference: ([a, w]) => [matmulRef(a, w, [2, 1, 3, 4], [3, 4, 2])],
  },
  {
    name: 'MatMul N-D input × 2-D weight (Linear on NHWC)',
    inputs: [{ name: 'a', shape: [2, 3, 2, 4] }, { name: 'w', shape: [4, 5] }],
    build: (b, [a, w]) => [b.op('MatMul', [a, w])],
    reference: ([a, w]) => [matmulRef(a, w, [2, 3, 2, 4], [4, 5])],
  },
  { name: 'Tanh', inputs: [{ name: 'x', shape: [3, 5] }], build: (b, [x]) => [b.op('Tanh', [x])], reference: ([x]) => [map(x, Math.tanh)] },
  { name: 'Exp', inputs: [{ name: 'x', shape: [3, 5] }], build: (b, [x]) => [b.op('Exp', [x])], reference: ([x]) => [map(x, Math.exp)] },
  { name: 'Reciprocal', inputs: [{ name: 'x', shape: [6], range: [0.5, 2] }], build: (b, [x]) => [b.op('Reciprocal', [x])], reference: ([x]) => [map(x, (v) => 1 / v)] },
  {
    name: 'Sub and Add with broadcasting, Neg',
    inputs: [{ name: 'x', shape: [2, 3, 2] }, { name: 'y', shape: [3, 1] }],
    build: (b, [x, y]) => [b.op('Neg', [b.op('Mul', [b.op('Sub', [x, y]), b.op('Add', [x, y])])])],
    reference: ([x, y]) => [map(x, (v, i) => -((v - y[Math.floor(i / 2) % 3]) * (v + y[Math.floor(i / 2) % 3])))],
  },
  {
    name: 'Erf (GELU as exported: Div/Erf/Add/Mul/Mul)',
    inputs: [{ name: 'x', shape: [3, 7] }],
    build: (b, [x]) => [b.op('Mul', [b.op('Mul', [x, b.op('Add', [b.op('Erf', [b.op('Div', [x, constNode(b, Math.SQRT2)])]), constNode(b, 1)])]), constNode(b, 0.5)])],
    reference: ([x]) => [map(x, (v) => 0.5 * v * (1 + erf(v / Math.fround(Math.SQRT2))))],
  },
  {
    name: 'Clip (ReLU6) and Relu',
    inputs: [{ name: 'x', shape: [4, 6], range: [-3, 9], avoid: [0, 6] }],
    build: (b, [x]) => [b.op('Clip', [x, constNode(b, 0), constNode(b, 6)]), b.op('Relu', [x])],
    reference: ([x]) => [map(x, (v) => Math.min(6, Math.max(0, v))), map(x, (v) => Math.max(0, v))],
  },
);

interface ConvGeometry {
  pads: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  group?: number;
}

/** float64 2-D convolution (cross-correlation, ONNX pads = [top, left, bottom, right], groups). */
function convRef(x: Float64Array, w: Float64Array, [n, c, h, wd]: number[], [o, cg, kh, kw]: number[], { pads, strides, dilations, group = 1 }: ConvGeometry): Float64Array {
  const oh = Math.floor((h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0]) + 1;
  const ow = Math.floor((wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1]) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < o; k++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = 0;
          for (let q = 0; q < cg; q++) {
            const ch = Math.floor(k / (o / group)) * cg + q; // input channel q of output k's group
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const [y, xx] = [i * strides[0] - pads[0] + u * dilations[0], j * strides[1] - pads[1] + v * dilations[1]];
                if (y >= 0 && y < h && xx >= 0 && xx < wd) s += x[((b * c + ch) * h + y) * wd + xx] * w[((k * cg + q) * kh + u) * kw + v];
              }
          }
          out[((b * o + k) * oh + i) * ow + j] = s;
        }
  return out;
}

/**
 * The Conv rule's forms, each a case: dX reverses the kernel or (when the kernel outweighs dY and
 * dX) dY; dW takes NHWC tap windows when Cin ≥ k² (and for depthwise), a Conv over transposed
 * operands otherwise; stride 2 takes ConvTranspose for dX.
 */
const convCase = (name: string, xShape: number[], wShape: number[], geo: ConvGeometry): FdCase => ({
  name,
  inputs: [{ name: 'x', shape: xShape }, { name: 'w', shape: wShape }],
  build: (b, [x, w]) => [b.op('Conv', [x, w], { kernel_shape: wShape.slice(2), pads: geo.pads, strides: geo.strides, dilations: geo.dilations, group: geo.group ?? 1 })],
  reference: ([x, w]) => [convRef(x, w, xShape, wShape, geo)],
});
const same = { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] } as ConvGeometry;
cases.push(
  convCase('Conv 3×3: kernel reversed for dX, dW as a Conv (Cin < 9)', [2, 2, 5, 5], [3, 2, 3, 3], same),
  convCase('Conv 3×3: dY reversed for dX, dW by tap windows; asymmetric pads, dilation', [1, 9, 4, 4], [4, 9, 3, 3], { pads: [2, 0, 1, 2], strides: [1, 1], dilations: [2, 1] }),
  convCase('Conv 3×3: kernel reversed, dW by tap windows', [2, 9, 5, 5], [3, 9, 3, 3], same),
  convCase('Conv 3×3 stride (2, 1): ConvTranspose for dX, strided tap windows', [2, 9, 5, 6], [4, 9, 3, 3], { pads: [1, 0, 1, 2], strides: [2, 1], dilations: [1, 1] }),
  convCase('Conv 3×3 depthwise: tap windows, asymmetric pads, dilation', [2, 3, 5, 5], [3, 1, 3, 3], { pads: [2, 1, 0, 2], strides: [1, 1], dilations: [1, 2], group: 3 }),
  convCase('Conv 1×1, kernel larger than dY (nothing reversed)', [1, 8, 1, 1], [8, 8, 1, 1], { pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1] }),
);

/** erf to float64 precision (Abramowitz–Stegun 7.1.26 is too coarse for a 1e-4 check): series/continued fraction. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 3) {
    // Maclaurin series: converges fast for |x| < 3.
    let sum = t;
    let term = t;
    for (let n = 1; n < 100; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - Math.exp(-t * t) / (t * Math.sqrt(Math.PI)) * (1 - 1 / (2 * t * t)));
}

describe('finite-difference gradient checks (float64 JS reference)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await gradCheck(c, 7);
      r.forward.forEach((f, k) => expect({ output: k, ...f }).toMatchObject({ ok: true }));
      for (const g of r.grads) expect({ input: g.input, ...g.result }).toMatchObject({ input: g.input, ok: true });
    });
  }
});
