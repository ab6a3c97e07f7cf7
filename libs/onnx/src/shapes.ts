// Static shape inference for the ops Paddock trains through. Training graphs have a fixed batch
// size, so every shape is concrete; autograd and graph surgery read them at build time, and an
// op without a rule fails here, naming the node, before any session is created.
import type { DType, Tensor } from '@paddock/tensor';
import { dtypeFromOnnx } from './codec.ts';
import { evaluateConstant } from './const-eval.ts';
import { attrInt, attrInts, attrString, describeNode, type Graph, type Node } from './ir.ts';

export interface ValueType {
  dtype: DType;
  shape: number[];
}

export class UnsupportedOpError extends Error {
  readonly exitCode = 2;
  constructor(readonly node: Node, readonly source: string, detail: string) {
    super(`${source}: ${describeNode(node)}: ${detail}`);
  }
}

interface ShapeContext {
  node: Node;
  inputs: (ValueType | undefined)[];
  /** Known constant values of inputs (initializers, Constant outputs), for shape-like inputs. */
  constant(i: number): Tensor | undefined;
}

type ShapeRule = (ctx: ShapeContext) => ValueType[];

const same: ShapeRule = ({ inputs }) => [inputs[0]!];

export function broadcastShapes(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new RangeError(`shapes [${shapes.map((x) => x.join('x')).join('], [')}] do not broadcast`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

const broadcast: ShapeRule = ({ inputs }) => [{ dtype: inputs[0]!.dtype, shape: broadcastShapes(...inputs.filter((x) => x).map((x) => x!.shape)) }];

function spatial(node: Node, x: number[], kernel: number[]): { out: number[]; pads: number[]; strides: number[]; dilations: number[] } {
  const n = kernel.length;
  const strides = attrInts(node, 'strides', undefined) ?? Array(n).fill(1);
  const dilations = attrInts(node, 'dilations', undefined) ?? Array(n).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads', undefined) ?? Array(2 * n).fill(0);
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const size = x.slice(2);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = Array(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(size[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i];
    }
  } else if (autoPad === 'VALID') pads = Array(2 * n).fill(0);
  const out = size.map((s, i) => {
    const span = s + pads[i] + pads[i + n] - dilations[i] * (kernel[i] - 1) - 1;
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // ONNX/PyTorch: the last ceil-mode window must start inside the input or left padding.
    if (ceil && (o - 1) * strides[i] >= s + pads[i]) o -= 1;
    return o;
  });
  return { out, pads, strides, dilations };
}

export function convGeometry(node: Node, x: number[], w: number[]) {
  const kernel = attrInts(node, 'kernel_shape', undefined) ?? w.slice(2);
  return { kernel, ...spatial(node, x, kernel), group: attrInt(node, 'group', 1) };
}

export function poolGeometry(node: Node, x: number[]) {
  const kernel = attrInts(node, 'kernel_shape', undefined)!;
  return { kernel, ...spatial(node, x, kernel) };
}

function axesOf(ctx: ShapeContext, inputIndex: number): number[] | undefined {
  const fromAttr = attrInts(ctx.node, 'axes', undefined);
  if (fromAttr) return fromAttr;
  const t = ctx.constant(inputIndex);
  return t ? Array.from(t.data as BigInt64Array, Number) : undefined;
}

const reduce: ShapeRule = (ctx) => {
  const x = ctx.inputs[0]!;
  const rank = x.shape.length;
  const axes = (axesOf(ctx, 1) ?? (attrInt(ctx.node, 'noop_with_empty_axes', 0) ? [] : x.shape.map((_, i) => i))).map((a) => (a + rank) % rank);
  const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
  const shape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
  return [{ dtype: x.dtype, shape }];
};

/** Slice's per-axis start and step and the output shape, PyTorch/ONNX clamping included. */
export function sliceGeometry(x: number[], starts?: Tensor, ends?: Tensor, axes?: Tensor, steps?: Tensor) {
  if (!starts || !ends) throw new RangeError('Slice needs constant starts/ends/axes/steps');
  const num = (t: Tensor) => Array.from(t.data as BigInt64Array, Number);
  const st = num(starts);
  const en = num(ends);
  const ax = axes ? num(axes).map((a) => (a + x.length) % x.length) : st.map((_, i) => i);
  const sp = steps ? num(steps) : st.map(() => 1);
  const begin = x.map(() => 0);
  const step = x.map(() => 1);
  const shape = [...x];
  ax.forEach((a, i) => {
    const n = x[a];
    const s = sp[i];
    let b = st[i] < 0 ? st[i] + n : st[i];
    let e = en[i] < 0 ? en[i] + n : en[i];
    if (s > 0) {
      b = Math.min(Math.max(b, 0), n);
      e = Math.min(Math.max(e, 0), n);
      shape[a] = Math.max(0, Math.ceil((e - b) / s));
    } else {
      b = Math.min(Math.max(b, -1), n - 1);
      e = Math.min(Math.max(e, -1), n - 1);
      shape[a] = Math.max(0, Math.ceil((e - b) / s));
    }
    begin[a] = b;
    step[a] = s;
  });
  return { begin, step, shape };
}

/** Output sizes of Split along its axis (split input, split attribute, or equal parts). */
export function splitSizes(n: number, outputs: number, split?: Tensor, splitAttr?: number[], numOutputs = 0): number[] {
  if (split) return Array.from(split.data as BigInt64Array, Number);
  if (splitAttr) return splitAttr;
  const k = numOutputs || outputs;
  const part = Math.ceil(n / k);
  return Array.from({ length: k }, (_, i) => Math.max(0, Math.min(part, n - i * part)));
}

const rules: Record<string, ShapeRule> = {
  Identity: same,
  Relu: same,
  Sigmoid: same,
  Tanh: same,
  Erf: same,
  Exp: same,
  Log: same,
  Sqrt: same,
  Neg: same,
  Reciprocal: same,
  Abs: same,
  Clip: same,
  Softmax: same,
  LogSoftmax: same,
  Dropout: ({ inputs }) => [inputs[0]!, { dtype: 'bool', shape: inputs[0]!.shape }],
  Add: broadcast,
  Sub: broadcast,
  Mul: broadcast,
  Div: broadcast,
  Pow: broadcast,
  Max: broadcast,
  Min: broadcast,
  Sum: broadcast,
  Greater: (ctx) => [{ dtype: 'bool', shape: broadcast(ctx)[0].shape }],
  Less: (ctx) => [{ dtype: 'bool', shape: broadcast(ctx)[0].shape }],
  Equal: (ctx) => [{ dtype: 'bool', shape: broadcast(ctx)[0].shape }],
  Where: ({ inputs }) => [{ dtype: inputs[1]!.dtype, shape: broadcastShapes(inputs[0]!.shape, inputs[1]!.shape, inputs[2]!.shape) }],
  Cast: ({ node, inputs }) => [{ dtype: dtypeFromOnnx(attrInt(node, 'to', 1), describeNode(node)), shape: inputs[0]!.shape }],
  Conv: ({ node, inputs }) => {
    const [x, w] = [inputs[0]!.shape, inputs[1]!.shape];
    return [{ dtype: inputs[0]!.dtype, shape: [x[0], w[0], ...convGeometry(node, x, w).out] }];
  },
  ConvTranspose: ({ node, inputs }) => {
    const [x, w] = [inputs[0]!.shape, inputs[1]!.shape];
    const n = x.length - 2;
    const kernel = attrInts(node, 'kernel_shape', undefined) ?? w.slice(2);
    const strides = attrInts(node, 'strides', undefined) ?? Array(n).fill(1);
    const dil = attrInts(node, 'dilations', undefined) ?? Array(n).fill(1);
    const pads = attrInts(node, 'pads', undefined) ?? Array(2 * n).fill(0);
    const outPad = attrInts(node, 'output_padding', undefined) ?? Array(n).fill(0);
    const out = x.slice(2).map((s, i) => strides[i] * (s - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + n]);
    return [{ dtype: inputs[0]!.dtype, shape: [x[0], w[1] * attrInt(node, 'group', 1), ...out] }];
  },
  MaxPool: ({ node, inputs }) => {
    const x = inputs[0]!.shape;
    const shape = [x[0], x[1], ...poolGeometry(node, x).out];
    return [{ dtype: inputs[0]!.dtype, shape }, { dtype: 'int64', shape }];
  },
  AveragePool: ({ node, inputs }) => {
    const x = inputs[0]!.shape;
    return [{ dtype: inputs[0]!.dtype, shape: [x[0], x[1], ...poolGeometry(node, x).out] }];
  },
  GlobalAveragePool: ({ inputs }) => [{ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape.map((d, i) => (i < 2 ? d : 1)) }],
  GlobalMaxPool: ({ inputs }) => [{ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape.map((d, i) => (i < 2 ? d : 1)) }],
  BatchNormalization: ({ node, inputs }) => {
    const c = [inputs[0]!.shape[1]];
    const train = attrInt(node, 'training_mode', 0) === 1;
    return train ? [inputs[0]!, { dtype: 'float32', shape: c }, { dtype: 'float32', shape: c }] : [inputs[0]!];
  },
  LayerNormalization: ({ node, inputs }) => {
    const x = inputs[0]!.shape;
    const axis = (attrInt(node, 'axis', -1) + x.length) % x.length;
    const stat = x.map((d, i) => (i < axis ? d : 1));
    return [inputs[0]!, { dtype: 'float32', shape: stat }, { dtype: 'float32', shape: stat }];
  },
  Flatten: ({ node, inputs }) => {
    const x = inputs[0]!.shape;
    const axis = (attrInt(node, 'axis', 1) + x.length) % x.length;
    const lead = x.slice(0, axis).reduce((a, b) => a * b, 1);
    const rest = x.slice(axis).reduce((a, b) => a * b, 1);
    return [{ dtype: inputs[0]!.dtype, shape: [lead, rest] }];
  },
  Gemm: ({ node, inputs }) => {
    const [a, b] = [inputs[0]!.shape, inputs[1]!.shape];
    const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
    const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
    return [{ dtype: inputs[0]!.dtype, shape: [m, n] }];
  },
  MatMul: ({ inputs }) => {
    const [a, b] = [inputs[0]!.shape, inputs[1]!.shape];
    if (a.length < 2 || b.length < 2) throw new RangeError('MatMul on 1-D operands is not supported');
    const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
    return [{ dtype: inputs[0]!.dtype, shape: [...batch, a[a.length - 2], b[b.length - 1]] }];
  },
  Transpose: ({ node, inputs }) => {
    const x = inputs[0]!.shape;
    const perm = attrInts(node, 'perm', undefined) ?? x.map((_, i) => x.length - 1 - i);
    return [{ dtype: inputs[0]!.dtype, shape: perm.map((p) => x[p]) }];
  },
  Reshape: (ctx) => {
    const x = ctx.inputs[0]!.shape;
    const target = ctx.constant(1);
    if (!target) throw new RangeError('Reshape needs a constant shape input (fold Shape sub-graphs for a fixed batch size first)');
    const spec = Array.from(target.data as BigInt64Array, Number);
    const total = x.reduce((a, b) => a * b, 1);
    const shape = spec.map((d, i) => (d === 0 && attrInt(ctx.node, 'allowzero', 0) === 0 ? x[i] : d));
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return [{ dtype: ctx.inputs[0]!.dtype, shape: shape.map((d) => (d === -1 ? total / known : d)) }];
  },
  Expand: (ctx) => {
    const target = ctx.constant(1);
    if (!target) throw new RangeError('Expand needs a constant shape input');
    return [{ dtype: ctx.inputs[0]!.dtype, shape: broadcastShapes(ctx.inputs[0]!.shape, Array.from(target.data as BigInt64Array, Number)) }];
  },
  Concat: ({ node, inputs }) => {
    const first = inputs[0]!.shape;
    const axis = (attrInt(node, 'axis', 0) + first.length) % first.length;
    const shape = [...first];
    shape[axis] = inputs.reduce((s, x) => s + x!.shape[axis], 0);
    return [{ dtype: inputs[0]!.dtype, shape }];
  },
  Squeeze: (ctx) => {
    const x = ctx.inputs[0]!.shape;
    const axes = (axesOf(ctx, 1) ?? x.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a + x.length) % x.length);
    return [{ dtype: ctx.inputs[0]!.dtype, shape: x.filter((_, i) => !axes.includes(i)) }];
  },
  Unsqueeze: (ctx) => {
    const x = ctx.inputs[0]!.shape;
    const axes = axesOf(ctx, 1)!;
    const rank = x.length + axes.length;
    const norm = axes.map((a) => (a + rank) % rank);
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x[j++]);
    return [{ dtype: ctx.inputs[0]!.dtype, shape }];
  },
  Shape: ({ node, inputs }) => {
    const rank = inputs[0]!.shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const start = clamp(attrInt(node, 'start', 0));
    const end = node.attrs.end ? clamp(attrInt(node, 'end', rank)) : rank;
    return [{ dtype: 'int64', shape: [Math.max(0, end - start)] }];
  },
  Size: () => [{ dtype: 'int64', shape: [] }],
  Gather: ({ node, inputs }) => {
    const [x, idx] = [inputs[0]!.shape, inputs[1]!.shape];
    const axis = (attrInt(node, 'axis', 0) + x.length) % x.length;
    return [{ dtype: inputs[0]!.dtype, shape: [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)] }];
  },
  ConstantOfShape: (ctx) => {
    const target = ctx.constant(0);
    if (!target) throw new RangeError('ConstantOfShape needs a constant shape input');
    const a = ctx.node.attrs.value;
    return [{ dtype: a && a.kind === 'tensor' ? a.value.dtype : 'float32', shape: Array.from(target.data as BigInt64Array, Number) }];
  },
  Slice: (ctx) => {
    const x = ctx.inputs[0]!.shape;
    const g = sliceGeometry(x, ctx.constant(1), ctx.constant(2), ctx.node.inputs[3] ? ctx.constant(3) : undefined, ctx.node.inputs[4] ? ctx.constant(4) : undefined);
    return [{ dtype: ctx.inputs[0]!.dtype, shape: g.shape }];
  },
  Split: (ctx) => {
    const x = ctx.inputs[0]!.shape;
    const axis = (attrInt(ctx.node, 'axis', 0) + x.length) % x.length;
    const sizes = splitSizes(x[axis], ctx.node.outputs.length, ctx.node.inputs[1] ? ctx.constant(1) : undefined, attrInts(ctx.node, 'split', undefined), attrInt(ctx.node, 'num_outputs', 0));
    return sizes.map((d) => ({ dtype: ctx.inputs[0]!.dtype, shape: x.map((v, i) => (i === axis ? d : v)) }));
  },
  HardSigmoid: same,
  Gelu: same,
  Mean: broadcast,
  RandomUniform: ({ node }) => [{ dtype: 'float32', shape: attrInts(node, 'shape', undefined) ?? [] }],
  HardSwish: same,
  And: (ctx) => [{ dtype: 'bool', shape: broadcast(ctx)[0].shape }],
  Not: same,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  SoftmaxCrossEntropyLoss: ({ node, inputs }) => {
    const reduction = attrString(node, 'reduction', 'mean');
    const loss = { dtype: inputs[0]!.dtype, shape: reduction === 'none' ? [inputs[0]!.shape[0]] : [] };
    return [loss, inputs[0]!];
  },
  GridSample: ({ inputs }) => {
    const [x, grid] = [inputs[0]!.shape, inputs[1]!.shape];
    return [{ dtype: inputs[0]!.dtype, shape: [x[0], x[1], grid[1], grid[2]] }];
  },
  Pad: (ctx) => {
    const pads = ctx.constant(1);
    if (!pads) throw new RangeError('Pad needs constant pads');
    let p = Array.from(pads.data as BigInt64Array, Number);
    const x = ctx.inputs[0]!.shape;
    const axesT = ctx.node.inputs[3] ? ctx.constant(3) : undefined;
    if (axesT) {
      // Opset 18: pads only for the listed axes.
      const axes = Array.from(axesT.data as BigInt64Array, Number).map((a) => (a + x.length) % x.length);
      const full = Array(2 * x.length).fill(0);
      axes.forEach((a, i) => ((full[a] = p[i]), (full[a + x.length] = p[i + axes.length])));
      p = full;
    }
    return [{ dtype: ctx.inputs[0]!.dtype, shape: x.map((d, i) => d + p[i] + p[i + x.length]) }];
  },
};

/** Custom ops (domain 'paddock') that lowering later turns into standard ops register here too. */
export function registerShapeRule(opType: string, rule: ShapeRule): void {
  rules[opType] = rule;
}

export function hasShapeRule(opType: string): boolean {
  return opType in rules;
}

/**
 * Shapes of every value in `graph`. Symbolic dimensions of the graph inputs are replaced by
 * `dims` (e.g. { N: 32 }); a dimension left symbolic is an error.
 */
export function inferShapes(graph: Graph, dims: Record<string, number> = {}, source = 'graph'): Map<string, ValueType> {
  return analyseGraph(graph, dims, source).types;
}

export interface GraphAnalysis {
  types: Map<string, ValueType>;
  /** Values computed at build time from shapes and integer constants (see const-eval.ts). */
  folded: Map<string, Tensor>;
}

/** Shapes of every value, plus the values that are build-time constants for these shapes. */
export function analyseGraph(graph: Graph, dims: Record<string, number> = {}, source = 'graph'): GraphAnalysis {
  const types = new Map<string, ValueType>();
  const constants = new Map<string, Tensor>(graph.initializers);
  const folded = new Map<string, Tensor>();
  for (const [name, t] of graph.initializers) types.set(name, { dtype: t.dtype, shape: [...t.shape] });
  for (const v of graph.inputs) {
    const shape = v.shape.map((d) => {
      if (typeof d === 'number') return d;
      if (dims[d] === undefined) throw new RangeError(`${source}: input "${v.name}" has a symbolic dimension "${d}"; give its size`);
      return dims[d];
    });
    types.set(v.name, { dtype: v.dtype, shape });
  }
  for (const node of graph.nodes) {
    if (node.opType === 'Constant') {
      const a = node.attrs.value;
      if (!a || a.kind !== 'tensor') throw new UnsupportedOpError(node, source, 'only Constant nodes with a tensor value are supported');
      constants.set(node.outputs[0], a.value);
      types.set(node.outputs[0], { dtype: a.value.dtype, shape: [...a.value.shape] });
      continue;
    }
    const rule = rules[node.opType];
    if (!rule) throw new UnsupportedOpError(node, source, `no shape rule for ${node.opType}; Paddock cannot train through this op yet`);
    const inputs = node.inputs.map((i) => (i === '' ? undefined : types.get(i)));
    node.inputs.forEach((name, i) => {
      if (name !== '' && !inputs[i]) throw new UnsupportedOpError(node, source, `input "${name}" is not produced by any earlier node, input or initializer`);
    });
    let out: ValueType[];
    try {
      out = rule({ node, inputs, constant: (i) => constants.get(node.inputs[i]) });
    } catch (error) {
      if (error instanceof UnsupportedOpError) throw error;
      throw new UnsupportedOpError(node, source, (error as Error).message);
    }
    node.outputs.forEach((o, i) => {
      if (o !== '' && out[i]) types.set(o, out[i]);
    });
    const value = (i: number) => {
      const name = node.inputs[i];
      const t = name ? constants.get(name) : undefined;
      return t && !(t.dtype === 'float32' && graph.initializers.has(name)) ? t : undefined;
    };
    const values = evaluateConstant({ node, shape: (i) => inputs[i]?.shape, value });
    values?.forEach((v, i) => {
      const o = node.outputs[i];
      if (!o) return;
      constants.set(o, v);
      folded.set(o, v);
      types.set(o, { dtype: v.dtype, shape: [...v.shape] });
    });
  }
  return { types, folded };
}
