// Gradient clipping and loss scaling inside the step graph, against hand-computed float64 updates
// of a linear classifier (logits = x·Wᵀ + b, mean softmax cross-entropy, one SGD step without
// momentum: p ← p − lr·g·min(1, max_norm/(‖g‖ + 1e-6))).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, encodeModel } from '@paddock/onnx';
import { Random, tensor } from '@paddock/tensor';
import { adamwFeeds, buildTrainStep, hyperInputs, sgdFeeds, type TrainStep, type TrainStepOptions } from '../src/index.ts';

const N = 4;
const K = 5;
const C = 3;

function linear() {
  const b = new GraphBuilder('linear');
  const x = b.input('input', 'float32', ['N', K]);
  const w = b.initializer('fc.weight', tensor('float32', [C, K], Float32Array.from({ length: C * K }, (_, i) => Math.sin(i + 1))));
  const bias = b.initializer('fc.bias', tensor('float32', [C], Float32Array.of(0.1, -0.2, 0.3)));
  b.opN('Gemm', [x, w, bias], { transB: 1 }, { outputs: ['logits'] });
  b.output('logits', 'float32', ['N', C]);
  return b.build();
}

const r = new Random(11);
const x = Float32Array.from({ length: N * K }, () => r.normal());
const labels = [0, 2, 1, 2];

/** float64 gradients of the mean cross-entropy: dW = dᵀx, db = Σₙ d, d = (softmax − onehot)/N. */
function reference(w: Float32Array, bias: Float32Array, input: Float32Array) {
  const dW = new Float64Array(C * K);
  const db = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const z = Array.from({ length: C }, (_, c) => bias[c] + Array.from({ length: K }, (_, k) => input[n * K + k] * w[c * K + k]).reduce((a, v) => a + v, 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    for (let c = 0; c < C; c++) {
      const d = (e[c] / s - (labels[n] === c ? 1 : 0)) / N;
      db[c] += d;
      for (let k = 0; k < K; k++) dW[c * K + k] += d * input[n * K + k];
    }
  }
  const norm = Math.sqrt([...dW, ...db].reduce((a, v) => a + v * v, 0));
  return { dW, db, norm };
}

async function runStep(options: Partial<TrainStepOptions>, feedsFor: (step: TrainStep) => Record<string, ort.Tensor>, input = x) {
  const step = buildTrainStep(linear(), { batchSize: N, optimizer: 'sgd', ...options });
  const session = await ort.InferenceSession.create(encodeModel(step.model));
  const feeds: Record<string, ort.Tensor> = {
    input: new ort.Tensor('float32', input, [N, K]),
    labels: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [N]),
    ...feedsFor(step),
  };
  for (const p of step.parameters) {
    feeds[p.name] = new ort.Tensor('float32', p.value.data as Float32Array, p.value.shape as number[]);
    for (const s of p.states) feeds[s.input] = new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]);
  }
  const out = await session.run(feeds);
  const get = (name: string) => out[name].data as Float32Array;
  return { step, out, get, feeds };
}

const lr = 0.5;
const hyper = (kind: 'sgd' | 'adamw') => (step: TrainStep) => {
  const values = kind === 'sgd' ? sgdFeeds({ lr, mom: 0.9, wd: 0, decoupled: true }, 1) : adamwFeeds({ lr: 1e-2, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }, 1);
  const feeds: Record<string, ort.Tensor> = {};
  for (const inputs of step.hyperGroups.values()) inputs.forEach((name, i) => (feeds[name] = new ort.Tensor('float32', Float32Array.of(values[i]), [])));
  expect(hyperInputs[kind].length).toBe(values.length);
  return feeds;
};

describe('gradient clipping in the step graph (torch clip_grad_norm_)', () => {
  const w0 = Float32Array.from({ length: C * K }, (_, i) => Math.sin(i + 1));
  const b0 = Float32Array.of(0.1, -0.2, 0.3);
  const ref = reference(w0, b0, x);

  it('the reference gradient norm is what the graph outputs', async () => {
    const { step, get } = await runStep({ gradClip: 10 }, hyper('sgd'));
    expect(get(step.gradNorm!)[0]).toBeCloseTo(ref.norm, 6);
    expect(ref.norm).toBeGreaterThan(0.1);
    expect(ref.norm).toBeLessThan(10);
  });

  for (const maxNorm of [10, 0.05]) {
    it(`max_norm ${maxNorm}: p ← p − lr·g·min(1, max_norm/(‖g‖+1e-6))`, async () => {
      const { step, get } = await runStep({ gradClip: maxNorm, exposeGradients: true }, hyper('sgd'));
      const coef = Math.min(1, maxNorm / (ref.norm + 1e-6));
      expect(coef < 1).toBe(maxNorm < ref.norm);
      const w = step.parameters.find((p) => p.name === 'fc.weight')!;
      const b = step.parameters.find((p) => p.name === 'fc.bias')!;
      get(w.output).forEach((v, i) => expect(v).toBeCloseTo(w0[i] - lr * ref.dW[i] * coef, 6));
      get(b.output).forEach((v, i) => expect(v).toBeCloseTo(b0[i] - lr * ref.db[i] * coef, 6));
      // The exposed gradients are the clipped ones: their norm is min(‖g‖, max_norm).
      const clippedNorm = Math.sqrt([...get(w.grad!), ...get(b.grad!)].reduce((a, v) => a + v * v, 0));
      expect(clippedNorm).toBeCloseTo(Math.min(ref.norm, maxNorm), 5);
    });
  }

  it('an unclipped step is bit-identical to a step without the option', async () => {
    const plain = await runStep({}, hyper('sgd'));
    const clipped = await runStep({ gradClip: 1e6 }, hyper('sgd'));
    for (const p of plain.step.parameters) expect(clipped.get(clipped.step.parameters.find((q) => q.name === p.name)!.output)).toEqual(plain.get(p.output));
    expect(plain.step.gradNorm).toBeUndefined();
  });
});

describe('loss scaling in the step graph', () => {
  const scaleFeed = (scale: number, kind: 'sgd' | 'adamw') => (step: TrainStep) => ({ ...hyper(kind)(step), [step.lossScale!]: new ort.Tensor('float32', Float32Array.of(scale), []) });

  it('a power-of-two scale leaves AdamW weights and state bit-identical to the unscaled step; the loss is unscaled', async () => {
    const plain = await runStep({ optimizer: 'adamw' }, hyper('adamw'));
    const scaled = await runStep({ optimizer: 'adamw', lossScaling: true }, scaleFeed(2 ** 16, 'adamw'));
    expect((scaled.out[scaled.step.finite!].data as Uint8Array)[0]).toBe(1);
    expect(scaled.get(scaled.step.loss)[0]).toBe(plain.get(plain.step.loss)[0]);
    expect(scaled.get(scaled.step.gradNorm!)[0]).toBeCloseTo(reference(plain.step.parameters[0].value.data as Float32Array, Float32Array.of(0.1, -0.2, 0.3), x).norm, 6);
    for (const p of plain.step.parameters) {
      const q = scaled.step.parameters.find((s) => s.name === p.name)!;
      expect(scaled.get(q.output)).toEqual(plain.get(p.output));
      p.states.forEach((s, i) => expect(scaled.get(q.states[i].output)).toEqual(plain.get(s.output)));
    }
  });

  it('overflowing gradients (a huge input, wrongly classified, at scale 2^16): not finite, weights and optimizer state returned unchanged', async () => {
    const huge = Float32Array.from(x, (v, i) => (i === 0 ? -1e36 : v));
    const { step, out, get, feeds } = await runStep({ optimizer: 'adamw', lossScaling: true, gradClip: 1 }, scaleFeed(2 ** 16, 'adamw'), huge);
    expect(Number.isFinite(get(step.loss)[0])).toBe(true);
    expect((out[step.finite!].data as Uint8Array)[0]).toBe(0);
    expect(get(step.gradNorm!)[0]).toBe(Infinity);
    for (const p of step.parameters) {
      expect(get(p.output)).toEqual(feeds[p.name].data);
      for (const s of p.states) expect(get(s.output)).toEqual(feeds[s.input].data);
    }
  });
});
