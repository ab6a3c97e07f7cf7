// Build-time evaluation of the integer "shape arithmetic" exporters emit (Shape → Gather →
// Unsqueeze → Concat → Reshape, ConstantOfShape, Cast, ...). With a fixed batch size these are
// constants; evaluating them lets shape inference see through them and folding remove them.
import { tensor, type DType, type Tensor } from '@paddock/tensor';
import { dtypeFromOnnx } from './codec.ts';
import { attrInt, attrInts, type Node } from './ir.ts';

export interface EvalContext {
  node: Node;
  /** Static shape of input i (always known when the evaluator runs). */
  shape(i: number): number[] | undefined;
  /** Constant value of input i: Constant outputs, folded values and non-float initializers
   *  (float initializers are weights and never fold). */
  value(i: number): Tensor | undefined;
}

type Evaluator = (ctx: EvalContext) => Tensor[] | undefined;

const isInt = (d: DType) => d === 'int64' || d === 'int32' || d === 'bool';
const nums = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function make(dtype: DType, shape: number[], values: number[]): Tensor {
  switch (dtype) {
    case 'int64':
      return tensor('int64', shape, BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))));
    case 'int32':
      return tensor('int32', shape, Int32Array.from(values));
    case 'bool':
      return tensor('bool', shape, Uint8Array.from(values, (v) => (v ? 1 : 0)));
    case 'uint8':
      return tensor('uint8', shape, Uint8Array.from(values));
    case 'float32':
      return tensor('float32', shape, Float32Array.from(values));
    default:
      throw new RangeError(`cannot fold a ${dtype} constant`);
  }
}

/** Integer inputs only: folding float arithmetic in float64 would round differently from ORT. */
function ints(ctx: EvalContext, ...indices: number[]): Tensor[] | undefined {
  const out: Tensor[] = [];
  for (const i of indices) {
    const v = ctx.value(i);
    if (!v || !isInt(v.dtype)) return undefined;
    out.push(v);
  }
  return out;
}

function binary(f: (a: number, b: number) => number, bool = false): Evaluator {
  return (ctx) => {
    const operands = ints(ctx, 0, 1);
    if (!operands) return undefined;
    const [a, b] = operands;
    const rank = Math.max(a.shape.length, b.shape.length);
    const pad = (s: readonly number[]) => [...Array(rank - s.length).fill(1), ...s];
    const [sa, sb] = [pad(a.shape), pad(b.shape)];
    const shape = sa.map((d, i) => Math.max(d, sb[i]));
    const [va, vb] = [nums(a), nums(b)];
    const index = (s: number[], flat: number) => {
      let k = 0;
      let rest = flat;
      let stride = 1;
      for (let i = rank - 1; i >= 0; i--) {
        const coord = rest % shape[i];
        rest = Math.floor(rest / shape[i]);
        k += (s[i] === 1 ? 0 : coord) * stride;
        stride *= s[i];
      }
      return k;
    };
    const values = Array.from({ length: size(shape) }, (_, j) => f(va[index(sa, j)], vb[index(sb, j)]));
    return [make(bool ? 'bool' : a.dtype, shape, values)];
  };
}

function axesInput(ctx: EvalContext, i: number): number[] | undefined {
  const attr = attrInts(ctx.node, 'axes', undefined);
  if (attr) return attr;
  const v = ctx.value(i);
  return v ? nums(v) : undefined;
}

const evaluators: Record<string, Evaluator> = {
  Shape: (ctx) => {
    const s = ctx.shape(0)!;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s.length : v, 0), s.length);
    const start = clamp(attrInt(ctx.node, 'start', 0));
    const end = ctx.node.attrs.end ? clamp(attrInt(ctx.node, 'end', s.length)) : s.length;
    const dims = s.slice(start, end);
    return [make('int64', [dims.length], dims)];
  },
  Size: (ctx) => [make('int64', [], [size(ctx.shape(0)!)])],
  Identity: (ctx) => ints(ctx, 0),
  Cast: (ctx) => {
    // Any dtype: a float here is itself derived from shapes (initializers never reach evaluators).
    const x = ctx.value(0);
    if (!x || x.dtype === 'float16') return undefined;
    const to = dtypeFromOnnx(attrInt(ctx.node, 'to', 7), ctx.node.name);
    return [make(to, [...x.shape], nums(x))];
  },
  ConstantOfShape: (ctx) => {
    const [shape] = ints(ctx, 0) ?? [];
    if (!shape) return undefined;
    const a = ctx.node.attrs.value;
    const fill = a && a.kind === 'tensor' ? a.value : tensor('float32', [1], Float32Array.of(0));
    const dims = nums(shape);
    return [make(fill.dtype, dims, Array(size(dims)).fill(Number(fill.data[0])))];
  },
  Gather: (ctx) => {
    const [data, indices] = ints(ctx, 0, 1) ?? [];
    if (!data || !indices) return undefined;
    const rank = data.shape.length;
    const axis = (attrInt(ctx.node, 'axis', 0) + rank) % rank;
    const outer = size(data.shape.slice(0, axis));
    const inner = size(data.shape.slice(axis + 1));
    const n = data.shape[axis];
    const [vd, vi] = [nums(data), nums(indices).map((i) => (i < 0 ? i + n : i))];
    const values: number[] = [];
    for (let o = 0; o < outer; o++) for (const i of vi) for (let k = 0; k < inner; k++) values.push(vd[(o * n + i) * inner + k]);
    return [make(data.dtype, [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)], values)];
  },
  Unsqueeze: (ctx) => {
    const [x] = ints(ctx, 0) ?? [];
    const axes = axesInput(ctx, 1);
    if (!x || !axes) return undefined;
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => (a + rank) % rank);
    const shape: number[] = [];
    for (let i = 0, j = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
    return [make(x.dtype, shape, nums(x))];
  },
  Squeeze: (ctx) => {
    const [x] = ints(ctx, 0) ?? [];
    if (!x) return undefined;
    const axes = (axesInput(ctx, 1) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a + x.shape.length) % x.shape.length);
    return [make(x.dtype, x.shape.filter((_, i) => !axes.includes(i)), nums(x))];
  },
  Reshape: (ctx) => {
    const [x, spec] = ints(ctx, 0, 1) ?? [];
    if (!x || !spec) return undefined;
    const dims = nums(spec).map((d, i) => (d === 0 ? x.shape[i] : d));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return [make(x.dtype, dims.map((d) => (d === -1 ? size(x.shape) / known : d)), nums(x))];
  },
  Concat: (ctx) => {
    const parts = ints(ctx, ...ctx.node.inputs.map((_, i) => i));
    if (!parts || parts.some((p) => p.shape.length !== 1)) return undefined;
    const values = parts.flatMap(nums);
    return [make(parts[0].dtype, [values.length], values)];
  },
  Slice: (ctx) => {
    const [x, starts, ends] = ints(ctx, 0, 1, 2) ?? [];
    if (!x || !starts || !ends || x.shape.length !== 1) return undefined;
    const axes = ctx.node.inputs[3] ? ints(ctx, 3)?.[0] : undefined;
    const steps = ctx.node.inputs[4] ? ints(ctx, 4)?.[0] : undefined;
    if ((axes && nums(axes).some((a) => a !== 0 && a !== -1)) || (steps && nums(steps)[0] !== 1)) return undefined;
    const n = x.shape[0];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const values = nums(x).slice(clamp(nums(starts)[0]), clamp(nums(ends)[0]));
    return [make(x.dtype, [values.length], values)];
  },
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b) => Math.trunc(a / b)),
  Equal: binary((a, b) => (a === b ? 1 : 0), true),
  Where: (ctx) => {
    const [c, x, y] = ints(ctx, 0, 1, 2) ?? [];
    if (!c || !x || !y || c.shape.join() !== x.shape.join() || x.shape.join() !== y.shape.join()) return undefined;
    const [vc, vx, vy] = [nums(c), nums(x), nums(y)];
    return [make(x.dtype, [...x.shape], vc.map((v, i) => (v ? vx[i] : vy[i])))];
  },
};

/** The node's outputs as constants, or undefined when they are not build-time constants. */
export function evaluateConstant(ctx: EvalContext): Tensor[] | undefined {
  const f = evaluators[ctx.node.opType] as Evaluator | undefined;
  return f && ctx.node.domain === '' ? f(ctx) : undefined;
}
