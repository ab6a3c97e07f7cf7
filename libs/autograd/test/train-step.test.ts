// Whole training steps against PyTorch: loss, logits, every parameter gradient, d loss/d input,
// BatchNorm running statistics, and two AdamW / SGD steps (resnet-basic's optimizer fixture).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, loadModel } from '@paddock/onnx';
import { adamwFeeds, buildTrainStep, sgdFeeds, trainableInitializers } from '../src/index.ts';
import { compare, fixturesDir, haveFixtures, readCase, readDesc } from './fixtures.ts';

const f32 = (t: { data: unknown }) => t.data as Float32Array;
const ortTensor = (t: { dtype: string; data: unknown; shape: readonly number[] }) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape as number[]);

const later = new Set<string>();
const cases = ['resnet-basic', 'resnet-d-bottleneck', 'mobilenetv2-narrow', 'tiny-dedup', 'convnext-narrow', 'fastai-head'];

describe.skipIf(!haveFixtures)('train-step fixtures', () => {
  for (const name of cases.filter((c) => !later.has(c))) {
    it(`${name}: loss, logits, gradients and BatchNorm statistics match PyTorch`, async () => {
      const dir = join(fixturesDir, 'train-step', name);
      const c = readCase(dir);
      const model = loadModel(join(dir, 'model.onnx'));
      const step = buildTrainStep(model, { batchSize: c.N, optimizer: 'none', inputGradient: true, source: name });
      expect(new Set(step.parameters.map((p) => p.name))).toEqual(new Set(c.parameters.map((p: any) => p.onnx_value)));
      const session = await ort.InferenceSession.create(encodeModel(step.model), { graphOptimizationLevel: 'all' });
      const feeds: Record<string, ort.Tensor> = {
        [step.input]: ortTensor(readDesc(dir, c.tensors.input)),
        [step.labels]: ortTensor(readDesc(dir, c.tensors.labels)),
      };
      for (const p of step.parameters) feeds[p.name] = ortTensor(p.value);
      for (const s of step.runningStats) feeds[s.input] = ortTensor(s.value);
      const out = await session.run(feeds);
      const check = (what: string, actual: Float32Array, expected: Float32Array, tol = 1e-4) => expect({ what, ...compare(actual, expected, tol) }).toMatchObject({ what, ok: true });
      expect(f32(out[step.loss])[0]).toBeCloseTo(c.loss.value, 5);
      check('logits', f32(out[step.logits]), f32(readDesc(dir, c.tensors.logits_train)));
      check('grad input', f32(out[step.gradInput!]), f32(readDesc(dir, c.tensors.grad_input)));
      const zero = new Set<string>(c.structurally_zero_grads);
      for (const p of c.parameters) {
        const mine = step.parameters.find((q) => q.name === p.onnx_value)!;
        const actual = f32(out[mine.grad!]);
        if (zero.has(p.torch_name) || p.structurally_zero_grad) {
          const worst = actual.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expect(worst, `${p.onnx_value} should be structurally zero`).toBeLessThan(1e-5);
        } else check(`grad ${p.onnx_value}`, actual, f32(readDesc(dir, p.grad)));
      }
      for (const bn of c.batchnorm) {
        const meanIdx = step.runningStats.findIndex((s) => s.input === bn.onnx_values.running_mean);
        const varIdx = step.runningStats.findIndex((s) => s.input === bn.onnx_values.running_var);
        check(`${bn.torch_module} running_mean`, f32(out[step.runningStats[meanIdx].output]), f32(readDesc(dir, bn.running_mean_after)), 1e-5);
        check(`${bn.torch_module} running_var`, f32(out[step.runningStats[varIdx].output]), f32(readDesc(dir, bn.running_var_after)), 1e-5);
      }
    }, 60_000);
  }

  const resnet = join(fixturesDir, 'train-step/resnet-basic');
  it.skipIf(!existsSync(resnet))('AdamW and SGD: two steps from the recorded gradients match torch.optim to 1e-5', async () => {
    const c = readCase(resnet);
    const model = loadModel(join(resnet, 'model.onnx'));
    const names = trainableInitializers(model);
    for (const opt of c.optimizers) {
      // The update rule alone: gradients are fed, so build the optimizer graph per parameter.
      const { GraphBuilder } = await import('@paddock/onnx');
      const { emitUpdate, hyperInputs, stateNames } = await import('../src/index.ts');
      const kind = opt.name as 'adamw' | 'sgd';
      const b = new GraphBuilder(`${kind}-step`);
      const hp = hyperInputs[kind].map((h) => b.input(`hp.${h}`, 'float32', []));
      const records = opt.results.filter((r: any) => r.after_step1);
      for (const r of records) {
        const shape = model.graph.initializers.get(r.onnx_value ?? r.name)!.shape as number[];
        const base = r.onnx_value ?? r.name;
        const p = b.input(base, 'float32', shape);
        const g = b.input(`${base}.grad`, 'float32', shape);
        const states = stateNames[kind].map((s) => b.input(`${base}.${s}`, 'float32', shape));
        const out = emitUpdate(kind, b, p, g, states, (h) => hp[hyperInputs[kind].indexOf(h)]);
        b.output(out.param, 'float32', shape);
        out.states.forEach((s) => b.output(s, 'float32', shape));
        r._out = out;
        r._shape = shape;
      }
      const session = await ort.InferenceSession.create(encodeModel(b.build()));
      const h = opt.hyperparameters;
      const params = new Map<string, Float32Array>();
      const states = new Map<string, Float32Array[]>();
      for (const r of records) {
        const base = r.onnx_value ?? r.name;
        params.set(base, f32(model.graph.initializers.get(base)!));
        states.set(base, stateNames[kind].map(() => new Float32Array(f32(model.graph.initializers.get(base)!).length)));
      }
      for (const t of [1, 2]) {
        const feedsHp =
          kind === 'adamw'
            ? adamwFeeds({ lr: h.lr, mom: h.beta1, sqrMom: h.beta2, eps: h.eps, wd: h.weight_decay }, t)
            : sgdFeeds({ lr: h.lr, mom: h.momentum, wd: h.weight_decay, decoupled: false }, t);
        const feeds: Record<string, ort.Tensor> = {};
        hyperInputs[kind].forEach((name, i) => (feeds[`hp.${name}`] = new ort.Tensor('float32', Float32Array.of(feedsHp[i]), [])));
        for (const r of records) {
          const base = r.onnx_value ?? r.name;
          feeds[base] = new ort.Tensor('float32', params.get(base)!, r._shape);
          feeds[`${base}.grad`] = ortTensor(readDesc(resnet, c.parameters.find((p: any) => p.onnx_value === base).grad));
          stateNames[kind].forEach((s, i) => (feeds[`${base}.${s}`] = new ort.Tensor('float32', states.get(base)![i], r._shape)));
        }
        const out = await session.run(feeds);
        for (const r of records) {
          const base = r.onnx_value ?? r.name;
          params.set(base, f32(out[r._out.param]));
          states.set(base, r._out.states.map((s: string) => f32(out[s])));
          const expected = f32(readDesc(resnet, t === 1 ? r.after_step1 : r.after_step2));
          expect({ what: `${kind} step ${t} ${base}`, ...compare(params.get(base)!, expected, 1e-5) }).toMatchObject({ ok: true });
        }
      }
      expect(records.length).toBe(58);
      expect(names.length).toBe(62);
    }
  }, 60_000);
});
