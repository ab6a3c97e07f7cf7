// Pretrained import of the ImageNet MobileNetV2: cut at the global pool, fastai's head attached,
// body features identical to the original model's, and head-only (frozen body) steps that lower
// the loss on a fixed batch; the unfrozen step compiles too.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { adamwFeeds, buildTrainStep, dropoutMask, hyperInputs } from '@paddock/autograd';
import { GraphBuilder, encodeModel, loadModel, type Model } from '@paddock/onnx';
import { Random } from '@paddock/tensor';
import { findCut, groupsByPattern, importClassifier, importClassifierModel, parameterGroup } from '../src/arch/import.ts';
import { exportInference, inferenceInput, inferenceOutput } from '../src/export.ts';
import { tensor } from '@paddock/tensor';

const modelPath = join(import.meta.dirname, '../../../../shared/models/mobilenetv2-imagenet-f32.onnx');

function withOutput(model: Model, value: string, shape: (number | string)[]): Model {
  const b = GraphBuilder.from({ ...model.graph, outputs: [] });
  b.output(value, 'float32', shape);
  return { ...model, graph: b.graph() };
}

describe.skipIf(!existsSync(modelPath))('importClassifier (mobilenetv2-imagenet-f32.onnx)', () => {
  const random = new Random(11);
  const n = 2;
  const images = Float32Array.from({ length: n * 3 * 224 * 224 }, () => random.normal());
  const input = new ort.Tensor('float32', images, [n, 3, 224, 224]);

  it('cuts at the global pool, attaches the fastai head (max pool first) and keeps the body exact', async () => {
    const original = loadModel(modelPath);
    const imported = importClassifier(modelPath, { classes: 2, seed: 1 });
    const nodes = imported.model.graph.nodes;
    expect(imported.features).toBe(1280);
    expect(nodes.filter((x) => x.opType === 'Gemm')).toHaveLength(0);
    const concat = nodes.find((x) => x.opType === 'Concat')!;
    expect(nodes.find((x) => x.outputs[0] === concat.inputs[0])!.opType).toBe('MaxPool');
    expect(nodes.find((x) => x.outputs[0] === concat.inputs[1])!.opType).toBe('GlobalAveragePool');
    const heads = [...imported.model.graph.initializers.keys()].filter((k) => parameterGroup(k) === 'head');
    expect(heads.sort()).toEqual(['head.2.bias', 'head.2.running_mean', 'head.2.running_var', 'head.2.weight', 'head.4.weight', 'head.6.bias', 'head.6.running_mean', 'head.6.running_var', 'head.6.weight', 'head.8.weight']);
    expect(imported.model.graph.initializers.get('head.8.weight')!.shape).toEqual([2, 512]);
    expect(Array.from(imported.model.graph.initializers.get('head.2.bias')!.data as Float32Array).every((v) => v === Math.fround(1e-3))).toBe(true);

    const pool = original.graph.nodes.find((x) => x.opType === 'GlobalAveragePool')!;
    const a = await ort.InferenceSession.create(encodeModel(withOutput(original, pool.outputs[0], [n, 1280, 1, 1])));
    const b = await ort.InferenceSession.create(encodeModel(withOutput(imported.model, imported.pooled, [n, 1280, 1, 1])));
    const fa = (await a.run({ [original.graph.inputs[0].name]: input }))[pool.outputs[0]].data as Float32Array;
    const fb = (await b.run({ [imported.model.graph.inputs[0].name]: input }))[imported.pooled].data as Float32Array;
    expect(fb.length).toBe(n * 1280);
    expect(Array.from(fb)).toEqual(Array.from(fa));
    // The eval-mode model (Dropout = identity, BN on running stats) runs in a plain session.
    const evalSession = await ort.InferenceSession.create(encodeModel(imported.model));
    const logits = (await evalSession.run({ [imported.model.graph.inputs[0].name]: input }))[imported.model.graph.outputs[0].name].data as Float32Array;
    expect(logits.length).toBe(n * 2);
    expect(logits.every(Number.isFinite)).toBe(true);
  }, 30_000);

  it('head-only steps (frozen body, train_bn has no BN in this folded body) lower the loss on a fixed batch', async () => {
    const imported = importClassifier(modelPath, { classes: 2, seed: 1 });
    // Masks fed as inputs and held fixed: the objective is the same every step.
    const step = buildTrainStep(imported.model, { batchSize: n, optimizer: 'adamw', hyperGroup: parameterGroup, frozen: (p) => parameterGroup(p) === 'body', dropout: 'input', source: modelPath });
    expect(step.parameters.every((p) => p.group === 'head')).toBe(true);
    expect(step.dropoutMasks.map((m) => m.ratio)).toEqual([0.25, 0.5]);
    const session = await ort.InferenceSession.create(encodeModel(step.model));
    const values = new Map<string, ort.Tensor>();
    const t = (v: { data: unknown; shape: readonly number[] }) => new ort.Tensor('float32', v.data as Float32Array, v.shape as number[]);
    for (const p of step.parameters) {
      values.set(p.name, t(p.value));
      for (const s of p.states) values.set(s.input, new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]));
    }
    for (const f of step.frozen) values.set(f.name, t(f.value));
    for (const s of step.runningStats) values.set(s.input, t(s.value));
    const maskRandom = new Random(5);
    for (const m of step.dropoutMasks) values.set(m.input, t(dropoutMask(m.shape, m.ratio, maskRandom)));
    const losses: number[] = [];
    for (let k = 1; k <= 4; k++) {
      const feeds: Record<string, ort.Tensor> = { [step.input]: input, [step.labels]: new ort.Tensor('int64', BigInt64Array.of(0n, 1n), [n]) };
      for (const [name, v] of values) feeds[name] = v;
      const hp = adamwFeeds({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }, k);
      for (const [, inputs] of step.hyperGroups) inputs.forEach((name, i) => (feeds[name] = new ort.Tensor('float32', Float32Array.of(hp[i]), [])));
      expect(hyperInputs.adamw.length).toBe(hp.length);
      const out = await session.run(feeds);
      losses.push((out[step.loss].data as Float32Array)[0]);
      for (const p of step.parameters) {
        values.set(p.name, out[p.output]);
        for (const s of p.states) values.set(s.input, out[s.output]);
      }
      for (const s of step.runningStats) values.set(s.input, out[s.output]);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[3]).toBeLessThan(losses[0]);
    expect(losses[1]).toBeLessThan(losses[0]);
  }, 30_000);

  it('the unfrozen training step (body and head, in-graph dropout) compiles', () => {
    const imported = importClassifier(modelPath, { classes: 2, seed: 1 });
    const step = buildTrainStep(imported.model, { batchSize: n, optimizer: 'adamw', hyperGroup: parameterGroup, source: modelPath });
    expect(new Set(step.parameters.map((p) => p.group))).toEqual(new Set(['body', 'head']));
    // 52 convs with bias, head BN γ/β ×2 and two Linears; Clip bounds and BN statistics are not weights.
    expect(step.parameters.length).toBe(52 * 2 + 6);
  });
});

describe('importClassifierModel (synthetic exports)', () => {
  // A timm-style export: conv body, mean over H and W as the pool, then an old Linear head.
  function timmLike() {
    const b = new GraphBuilder('timm');
    const x = b.input('x', 'float32', ['batch', 3, 8, 8]);
    const w = b.initializer('stem.weight', tensor('float32', [6, 3, 3, 3], Float32Array.from({ length: 162 }, (_, i) => Math.sin(i) * 0.3)));
    const f = b.op('Relu', [b.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, { name: '/stem/Conv' })], {}, { name: '/act/Relu' });
    const pooled = b.op('ReduceMean', [f], { axes: [-2, -1], keepdims: 0 }, { name: '/head/global_pool/ReduceMean' });
    const fc = b.initializer('head.fc.weight', tensor('float32', [5, 6], new Float32Array(30).fill(0.1)));
    b.opN('Gemm', [pooled, fc], { transB: 1 }, { outputs: ['out'], name: '/head/fc/Gemm' });
    b.output('out', 'float32', ['batch', 5]);
    return b.build({ opset: 17 });
  }

  it('finds a ReduceMean over H, W as the pool, or cuts where the user says', () => {
    const model = timmLike();
    expect(findCut(model.graph).name).toBe('/head/global_pool/ReduceMean');
    const imported = importClassifierModel(model, { classes: 3, seed: 4 });
    // The old head (and its head.* initializer) is gone; the new head's names cannot collide.
    expect([...imported.model.graph.initializers.keys()].filter((k) => k.startsWith('head.fc'))).toEqual([]);
    expect(imported.body).toBe(model.graph.nodes.find((n) => n.name === '/act/Relu')!.outputs[0]);
    expect(imported.features).toBe(6);
    expect(imported.model.graph.nodes.find((n) => n.opType === 'MaxPool')!.attrs.kernel_shape).toEqual({ kind: 'ints', value: [4, 4] });
    const atConv = importClassifierModel(model, { classes: 3, seed: 4, cut: '/act/Relu' });
    expect(atConv.body).toBe(model.graph.nodes.find((n) => n.name === '/stem/Conv')!.outputs[0]);
    expect(() => importClassifierModel(model, { classes: 3, seed: 4, cut: '/nope' })).toThrow(/no node named "\/nope"/);
  });

  it('the imported model exports to an inference model whose probabilities are softmax(eval logits)', async () => {
    const imported = importClassifierModel(timmLike(), { classes: 3, seed: 4 });
    const info = { vocab: ['a', 'b', 'c'], mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3], height: 8, width: 8 };
    const exported = exportInference(imported.model, info);
    const pixels = Uint8Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i * 37) % 256);
    const inference = await ort.InferenceSession.create(encodeModel(exported));
    const probs = (await inference.run({ [inferenceInput]: new ort.Tensor('uint8', pixels, [2, 8, 8, 3]) }))[inferenceOutput].data as Float32Array;
    // The same images normalised by hand, through the eval-mode imported model.
    const x = new Float32Array(2 * 3 * 64);
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let k = 0; k < 64; k++) x[(n * 3 + c) * 64 + k] = (pixels[(n * 64 + k) * 3 + c] - info.mean[c] * 255) / (info.std[c] * 255);
    const evalSession = await ort.InferenceSession.create(encodeModel(imported.model));
    const logits = (await evalSession.run({ x: new ort.Tensor('float32', x, [2, 3, 8, 8]) }))[imported.model.graph.outputs[0].name].data as Float32Array;
    for (let n = 0; n < 2; n++) {
      const row = Array.from(logits.slice(n * 3, n * 3 + 3));
      const z = row.reduce((a, v) => a + Math.exp(v), 0);
      row.forEach((v, k) => expect(probs[n * 3 + k]).toBeCloseTo(Math.exp(v) / z, 5));
    }
  });

  it('initialises the head as fastai: BN weight 1, bias 1e-3, Linear kaiming-normal (std √(2/fan_in)), seeded', () => {
    const a = importClassifierModel(timmLike(), { classes: 3, seed: 4, hidden: 64 });
    const again = importClassifierModel(timmLike(), { classes: 3, seed: 4, hidden: 64 });
    const w = a.model.graph.initializers.get('head.4.weight')!;
    expect(w.shape).toEqual([64, 12]);
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from(again.model.graph.initializers.get('head.4.weight')!.data as Float32Array));
    const data = w.data as Float32Array;
    const std = Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 12) * 0.85);
    expect(std).toBeLessThan(Math.sqrt(2 / 12) * 1.15);
    expect(Array.from(a.model.graph.initializers.get('head.6.weight')!.data as Float32Array).every((v) => v === 1)).toBe(true);
    expect(parameterGroup('head.6.weight')).toBe('head');
    expect(parameterGroup('stem.weight')).toBe('body');
    const groups = groupsByPattern([[/^Conv_(1|2)\d?\./, 'early'], ['head.8.', 'last']]);
    expect(['Conv_12.weight', 'Conv_95.bias', 'head.8.weight', 'head.4.weight'].map(groups)).toEqual(['early', 'body', 'last', 'head']);
  });
});

const fixtures = join(import.meta.dirname, '../../../../shared/fixtures/train-step');
const fixtureCases = ['resnet-basic', 'resnet-d-bottleneck', 'mobilenetv2-narrow', 'convnext-narrow', 'fastai-head', 'tiny-dedup'];

describe.skipIf(!existsSync(fixtures))('importClassifier on every train-step fixture model (the path a user export takes)', () => {
  for (const name of fixtureCases) {
    it(`${name}: imports, compiles a full AdamW step and runs it`, async () => {
      const imported = importClassifier(join(fixtures, name, 'model.onnx'), { classes: 3, seed: 2 });
      const step = buildTrainStep(imported.model, { batchSize: 2, optimizer: 'adamw', hyperGroup: parameterGroup, dropout: 'input', source: name });
      expect(new Set(step.parameters.map((p) => p.group))).toEqual(new Set(['body', 'head']));
      const session = await ort.InferenceSession.create(encodeModel(step.model));
      const shape = imported.model.graph.inputs[0].shape.map((d, i) => (i === 0 ? 2 : (d as number)));
      const random = new Random(3);
      const feeds: Record<string, ort.Tensor> = {
        [step.input]: new ort.Tensor('float32', Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal()), shape),
        [step.labels]: new ort.Tensor('int64', BigInt64Array.of(0n, 2n), [2]),
      };
      const t = (v: { data: unknown; shape: readonly number[] }) => new ort.Tensor('float32', v.data as Float32Array, v.shape as number[]);
      for (const p of step.parameters) {
        feeds[p.name] = t(p.value);
        for (const s of p.states) feeds[s.input] = new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]);
      }
      for (const s of step.runningStats) feeds[s.input] = t(s.value);
      for (const m of step.dropoutMasks) feeds[m.input] = t(dropoutMask(m.shape, m.ratio, random));
      const hp = adamwFeeds({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }, 1);
      for (const [, inputs] of step.hyperGroups) inputs.forEach((h, i) => (feeds[h] = new ort.Tensor('float32', Float32Array.of(hp[i]), [])));
      const out = await session.run(feeds);
      expect(Number.isFinite((out[step.loss].data as Float32Array)[0])).toBe(true);
      for (const p of step.parameters) expect((out[p.output].data as Float32Array).every(Number.isFinite)).toBe(true);
    }, 20_000);
  }
});
