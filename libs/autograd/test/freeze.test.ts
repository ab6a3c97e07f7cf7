// freeze() as fastai does it, on the fastai-head fixture: the body is frozen except its BatchNorm
// parameters (train_bn); frozen weights get no gradient nodes, and the gradients of what still
// trains are exactly PyTorch's.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, loadModel } from '@paddock/onnx';
import { batchNormParameters, buildTrainStep, freezePredicate, noWeightDecayParameters } from '../src/index.ts';
import { compare, fixturesDir, haveFixtures, readCase, readDesc } from './fixtures.ts';

const t = (v: { dtype: string; data: unknown; shape: readonly number[] }) => new ort.Tensor(v.dtype as 'float32', v.data as Float32Array, v.shape as number[]);

describe.skipIf(!haveFixtures)('freeze (fastai-head)', () => {
  it('frozen body but train_bn: no weight-gradient nodes for frozen convs, PyTorch gradients for the rest', async () => {
    const dir = join(fixturesDir, 'train-step/fastai-head');
    const c = readCase(dir);
    const model = loadModel(join(dir, 'model.onnx'));
    const group = (p: string) => (p.startsWith('1.') ? 'head' : 'body');
    const frozen = freezePredicate(model, group, ['head']);
    const bn = batchNormParameters(model);
    const step = buildTrainStep(model, { batchSize: c.N, optimizer: 'none', frozen });
    const all = buildTrainStep(model, { batchSize: c.N, optimizer: 'none' });
    expect(step.parameters.every((p) => group(p.name) === 'head' || bn.has(p.name))).toBe(true);
    expect(step.frozen.map((f) => f.name).sort()).toEqual(all.parameters.map((p) => p.name).filter((p) => group(p) === 'body' && !bn.has(p)).sort());
    // Frozen convs lose their weight-gradient sub-graphs (whatever formulation conv.ts uses):
    // dW needs the layer's input activations, so no frozen conv's input feeds a backward node.
    const count = (s: typeof step) => s.model.graph.nodes.length;
    expect(count(step)).toBeLessThan(count(all) - 20);
    const forwardConvs = model.graph.nodes.filter((n) => n.opType === 'Conv');
    const readers = (s: typeof step, v: string) => s.model.graph.nodes.filter((n) => n.inputs.includes(v)).length;
    const firstAll = forwardConvs.map((n) => readers(all, n.inputs[0]));
    const firstFrozen = forwardConvs.map((n) => readers(step, n.inputs[0]));
    expect(firstFrozen.every((r, i) => r < firstAll[i])).toBe(true);

    const session = await ort.InferenceSession.create(encodeModel(step.model));
    const feeds: Record<string, ort.Tensor> = { [step.input]: t(readDesc(dir, c.tensors.input)), [step.labels]: t(readDesc(dir, c.tensors.labels)) };
    for (const p of step.parameters) feeds[p.name] = t(p.value);
    for (const f of step.frozen) feeds[f.name] = t(f.value);
    for (const s of step.runningStats) feeds[s.input] = t(s.value);
    const out = await session.run(feeds);
    for (const p of step.parameters) {
      const fixture = c.parameters.find((q: any) => q.onnx_value === p.name);
      const r = compare(out[p.grad!].data as Float32Array, readDesc(dir, fixture.grad).data as Float32Array, 1e-4);
      expect({ p: p.name, ...r }).toMatchObject({ ok: true });
    }
    const noWd = noWeightDecayParameters(model);
    expect(noWd.has('1.2.weight') && noWd.has('0.1.bias') && !noWd.has('1.4.weight') && !noWd.has('0.0.weight')).toBe(true);
  }, 30_000);
});
