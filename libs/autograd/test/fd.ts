// Gradient checks by central finite differences: a float64 reference of the forward computation
// written in JS, against the vector-Jacobian product the engine emits and ORT runs in float32.
import * as ort from 'onnxruntime-node';
import { GraphBuilder, encodeModel, inferShapes } from '@paddock/onnx';
import { Random } from '@paddock/tensor';
import { differentiate, dropoutMask, lower, toTrainingForm } from '../src/index.ts';
import { compare } from './fixtures.ts';

export interface FdInput {
  name: string;
  shape: number[];
  /** Sampling range (default [-2, 2]). */
  range?: [number, number];
  /** Points (kinks) samples keep at least 0.05 away from. */
  avoid?: number[];
}

export interface FdCase {
  name: string;
  inputs: FdInput[];
  /** Emits the forward graph; returns its outputs. */
  build(b: GraphBuilder, inputs: string[]): string[];
  /** The same computation in float64; `masks` are the fed Dropout masks, in graph order. */
  reference(x: Float64Array[], masks: Float64Array[]): Float64Array[];
}

export interface FdResult {
  forward: ReturnType<typeof compare>[];
  grads: { input: string; fd: Float64Array; vjp: Float32Array; result: ReturnType<typeof compare> }[];
}

const size = (s: number[]) => s.reduce((a, d) => a * d, 1);

function sample(random: Random, input: FdInput): Float64Array {
  const [lo, hi] = input.range ?? [-2, 2];
  const out = new Float64Array(size(input.shape));
  for (let i = 0; i < out.length; i++) {
    let v: number;
    do v = Math.fround(random.uniform(lo, hi));
    while ((input.avoid ?? []).some((k) => Math.abs(v - k) < 0.05));
    out[i] = v;
  }
  return out;
}

/** Runs one case: forward and every input's VJP for L = Σ_k Σ out_k · dY_k. */
export async function gradCheck(c: FdCase, seed = 1, tol = 1e-4): Promise<FdResult> {
  const random = new Random(seed);
  const b = new GraphBuilder(`fd_${c.name}`);
  const names = c.inputs.map((i) => b.input(i.name, 'float32', i.shape));
  const outs = c.build(b, names);
  let shapes = inferShapes(b.graph(), {}, c.name);
  const form = toTrainingForm(b, () => 1, { dropout: 'input', shape: (v) => shapes.get(v)!.shape });
  shapes = inferShapes(b.graph(), {}, c.name);
  const forward = [...b.nodes];
  const upstream = outs.map((o, k) => b.input(`dY${k}`, 'float32', shapes.get(o)!.shape));
  const grads = differentiate(b, { forward, shapes, seeds: new Map(outs.map((o, k) => [o, upstream[k]])), wrt: names, source: c.name });
  lower(b, (v) => shapes.get(v)!.shape);
  outs.forEach((o) => b.output(o, 'float32', shapes.get(o)!.shape));
  names.forEach((n) => b.output(grads.get(n)!, 'float32', shapes.get(n)!.shape));

  const x = c.inputs.map((i) => sample(random, i));
  const dY = outs.map((o) => sample(random, { name: o, shape: shapes.get(o)!.shape }));
  const masks = form.dropoutMasks.map((m) => Float64Array.from(dropoutMask(m.shape, m.ratio, random).data));
  const feeds: Record<string, ort.Tensor> = {};
  c.inputs.forEach((i, k) => (feeds[i.name] = new ort.Tensor('float32', Float32Array.from(x[k]), i.shape)));
  upstream.forEach((u, k) => (feeds[u] = new ort.Tensor('float32', Float32Array.from(dY[k]), shapes.get(outs[k])!.shape)));
  form.dropoutMasks.forEach((m, k) => (feeds[m.input] = new ort.Tensor('float32', Float32Array.from(masks[k]), m.shape)));
  const session = await ort.InferenceSession.create(encodeModel(b.build()));
  const run = await session.run(feeds);
  await session.release();

  const ref = c.reference(x, masks);
  const forwardResults = outs.map((o, k) => compare(run[o].data as Float32Array, ref[k], 1e-5));
  const loss = (xs: Float64Array[]) => c.reference(xs, masks).reduce((s, y, k) => s + y.reduce((t, v, j) => t + v * dY[k][j], 0), 0);
  const h = 1e-4;
  const results: FdResult['grads'] = [];
  c.inputs.forEach((input, k) => {
    const fd = new Float64Array(x[k].length);
    for (let j = 0; j < fd.length; j++) {
      const plus = x.map((v) => v.slice());
      const minus = x.map((v) => v.slice());
      plus[k][j] += h;
      minus[k][j] -= h;
      fd[j] = (loss(plus) - loss(minus)) / (2 * h);
    }
    const vjp = run[grads.get(input.name)!].data as Float32Array;
    results.push({ input: input.name, fd, vjp, result: compare(vjp, fd, tol) });
  });
  return { forward: forwardResults, grads: results };
}

// ---- float64 reference helpers (row-major N-D indexing) ----

export function strides(shape: number[]): number[] {
  return shape.map((_, i) => size(shape.slice(i + 1)));
}

export function unravel(flat: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

export function ravel(idx: number[], shape: number[]): number {
  return idx.reduce((a, v, i) => a * shape[i] + v, 0);
}

/** out[i] = src[source(index of i)] or 0 where source returns undefined. */
export function gather(src: Float64Array, outShape: number[], source: (idx: number[]) => number | undefined): Float64Array {
  const out = new Float64Array(size(outShape));
  for (let i = 0; i < out.length; i++) {
    const s = source(unravel(i, outShape));
    out[i] = s === undefined ? 0 : src[s];
  }
  return out;
}

export const map = (x: Float64Array, f: (v: number, i: number) => number) => x.map(f);

/** Sum (or mean) over `axes`, keeping them as size-1 dims. */
export function reduce(x: Float64Array, shape: number[], axes: number[], mean: boolean): Float64Array {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(size(outShape));
  for (let i = 0; i < x.length; i++) out[ravel(unravel(i, shape).map((v, a) => (axes.includes(a) ? 0 : v)), outShape)] += x[i];
  const count = axes.reduce((a, i) => a * shape[i], 1);
  return mean ? out.map((v) => v / count) : out;
}

export function softmax(x: Float64Array, shape: number[], axis: number, log: boolean): Float64Array {
  const max = new Float64Array(x.length);
  const sum = reduce(x.map((v) => Math.exp(v)), shape, [axis], false);
  const keep = shape.map((d, i) => (i === axis ? 1 : d));
  return x.map((v, i) => {
    const s = sum[ravel(unravel(i, shape).map((c, a) => (a === axis ? 0 : c)), keep)];
    return log ? v - Math.log(s) + max[i] : Math.exp(v) / s;
  });
}
