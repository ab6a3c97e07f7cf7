// Every single-op fixture: the vector-Jacobian product of L = sum(output · dY) for the input and
// each parameter, computed by differentiate() in standard ONNX ops, against PyTorch.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, encodeModel, foldConstants, inferShapes, loadModel } from '@paddock/onnx';
import { differentiate, lower, reductionAxes, toTrainingForm } from '../src/index.ts';
import { compare, fixturesDir, opCases, readCase, readDesc } from './fixtures.ts';

async function runOpCase(name: string) {
  const dir = join(fixturesDir, 'ops', name);
  const c = readCase(dir);
  const model = loadModel(join(dir, 'model.onnx'));
  // Symbolic dims (batch, and H/W in a few exports) take the sizes of the stored inputs.
  const dims: Record<string, number> = {};
  for (const v of model.graph.inputs) {
    const desc = c.inputs.find((i: any) => i.onnx_input === v.name)?.value;
    v.shape.forEach((d, k) => typeof d === 'string' && desc && (dims[d] = desc.shape[k]));
  }
  // As buildTrainStep does: for these input sizes, exporter shape sub-graphs are constants.
  const graph = foldConstants(model.graph, dims, name);
  const before = inferShapes(graph, dims, name);
  const b = GraphBuilder.from(graph);
  const form = toTrainingForm(b, (node) => {
    const s = before.get(node.inputs[0])!.shape;
    return reductionAxes(s.length).reduce((a, i) => a * s[i], 1);
  });
  const output = model.graph.outputs[0];
  const outShape = before.get(output.name)!.shape;
  const upstream = b.input('upstream_grad', 'float32', outShape);
  const forward = [...b.nodes];
  const shapes = inferShapes(b.graph(), dims, name);
  const floatInputs = c.inputs.filter((i: any) => i.value.dtype === 'float32').map((i: any) => i.onnx_input);
  const params = c.parameters.map((p: any) => p.onnx_initializer);
  const grads = differentiate(b, { forward, shapes, seeds: new Map([[output.name, upstream]]), wrt: [...floatInputs, ...params] });
  lower(b, (v) => shapes.get(v)!.shape);
  b.outputs.splice(0);
  b.output(output.name, 'float32', outShape);
  const wanted = [...floatInputs, ...params];
  for (const x of wanted) b.output(grads.get(x)!, 'float32', shapes.get(x)!.shape);
  for (const s of form.runningStats) b.output(s.output, 'float32', shapes.get(s.input)!.shape);
  const session = await ort.InferenceSession.create(encodeModel(b.build()));
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of c.inputs) {
    const t = readDesc(dir, i.value);
    feeds[i.onnx_input] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape as number[]);
  }
  const dy = readDesc(dir, c.upstream_grad);
  feeds.upstream_grad = new ort.Tensor('float32', dy.data as Float32Array, dy.shape as number[]);
  const out = await session.run(feeds);
  const results: Record<string, ReturnType<typeof compare>> = {};
  results.output = compare(out[output.name].data as Float32Array, readDesc(dir, c.output).data as Float32Array, 1e-4);
  for (const i of c.inputs.filter((x: any) => x.grad)) results[`grad ${i.onnx_input}`] = compare(out[grads.get(i.onnx_input)!].data as Float32Array, readDesc(dir, i.grad).data as Float32Array, 1e-4);
  for (const p of c.parameters) results[`grad ${p.onnx_initializer}`] = compare(out[grads.get(p.onnx_initializer)!].data as Float32Array, readDesc(dir, p.grad).data as Float32Array, 1e-4);
  if (c.batchnorm) {
    const bn = c.batchnorm;
    const [rm, rv] = form.runningStats;
    results.running_mean = compare(out[rm.output].data as Float32Array, readDesc(dir, bn.running_mean_after ?? bn.tensors?.running_mean_after).data as Float32Array, 1e-5);
    results.running_var = compare(out[rv.output].data as Float32Array, readDesc(dir, bn.running_var_after ?? bn.tensors?.running_var_after).data as Float32Array, 1e-5);
  }
  return results;
}

const later = new Set<string>();

describe.skipIf(opCases().length === 0)('op fixtures', () => {
  for (const name of opCases().filter((n) => !later.has(n))) {
    it(name, async () => {
      const results = await runOpCase(name);
      for (const [what, r] of Object.entries(results)) expect({ what, ...r }).toMatchObject({ what, ok: true });
    });
  }
});
