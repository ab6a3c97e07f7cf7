// The fp16 training step (float16 forward/backward, float32 master weights, BatchNorm, loss and
// update) on the fixture models: its structure (which nodes compute in which precision; ORT's
// type check at session creation) and its values against the float32 step. ORT's CPU provider
// runs the float16 nodes it has no float16 kernel for through casts to float32, so on CPU the
// values come out close to the float32 step; float16 rounding itself shows only on CUDA.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, loadModel } from '@paddock/onnx';
import { buildTrainStep, float32Values, type TrainStep, type TrainStepOptions } from '../src/index.ts';
import { fixturesDir, haveFixtures, readCase, readDesc } from './fixtures.ts';

const ortTensor = (t: { dtype: string; data: unknown; shape: readonly number[] }) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape as number[]);
const f32 = (t: ort.Tensor) => t.data as Float32Array;

/** ‖a − b‖ / ‖b‖ (0 when both are zero, as the structurally zero gradients of zero-init BatchNorm are). */
function relativeError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return d === 0 ? 0 : Math.sqrt(d / n);
}

async function run(name: string, options: Partial<TrainStepOptions>, lossScale = 2 ** 16) {
  const dir = join(fixturesDir, 'train-step', name);
  const c = readCase(dir);
  const step = buildTrainStep(loadModel(join(dir, 'model.onnx')), { batchSize: c.N, optimizer: 'none', source: name, ...options });
  const session = await ort.InferenceSession.create(encodeModel(step.model));
  const feeds: Record<string, ort.Tensor> = { [step.input]: ortTensor(readDesc(dir, c.tensors.input)), [step.labels]: ortTensor(readDesc(dir, c.tensors.labels)) };
  for (const p of step.parameters) {
    feeds[p.name] = ortTensor(p.value);
    for (const s of p.states) feeds[s.input] = new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]);
  }
  for (const s of step.runningStats) feeds[s.input] = ortTensor(s.value);
  for (const inputs of step.hyperGroups.values()) for (const h of inputs) feeds[h] = new ort.Tensor('float32', Float32Array.of(h.endsWith('decay') ? 1 : 1e-3), []);
  if (step.lossScale) feeds[step.lossScale] = new ort.Tensor('float32', Float32Array.of(lossScale), []);
  return { step, out: await session.run(feeds) };
}

function precisionOf(step: TrainStep) {
  const floats = float32Values(step.model.graph);
  const half = (op: string) => step.model.graph.nodes.filter((n) => n.opType === op).map((n) => n.inputs.filter((x) => x !== '').every((x) => !floats.has(x)));
  return { floats, half };
}

describe.skipIf(!haveFixtures)('fp16 training step', () => {
  it('resnet-basic: convolutions and their gradients in float16; BatchNorm statistics, loss, gradients out and outputs in float32; values match the float32 step to 1e-2', async () => {
    const plain = await run('resnet-basic', {});
    const mixed = await run('resnet-basic', { fp16: true });
    const { floats, half } = precisionOf(mixed.step);
    // Every Conv (forward and input gradient), ConvTranspose and Gemm (weight gradients) reads float16.
    for (const op of ['Conv', 'ConvTranspose', 'Gemm']) {
      expect(half(op).length, op).toBeGreaterThan(0);
      expect(half(op).every(Boolean), `${op} in float16`).toBe(true);
    }
    expect(half('SoftmaxCrossEntropyLoss')).toEqual([false]);
    expect(half('ReduceMean').every((h) => !h), 'BatchNorm statistics in float32').toBe(true);
    for (const o of mixed.step.model.graph.outputs) expect(floats.has(o.name), o.name).toBe(true);
    expect(mixed.step.model.graph.inputs.filter((i) => i.dtype !== 'float32' && i.dtype !== 'int64')).toEqual([]);

    expect(f32(mixed.out[mixed.step.loss])[0]).toBeCloseTo(f32(plain.out[plain.step.loss])[0], 2);
    expect(relativeError(f32(mixed.out[mixed.step.logits]), f32(plain.out[plain.step.logits]))).toBeLessThan(1e-2);
    for (const p of plain.step.parameters) {
      const q = mixed.step.parameters.find((x) => x.name === p.name)!;
      expect({ p: p.name, err: relativeError(f32(mixed.out[q.grad!]), f32(plain.out[p.grad!])) }).toMatchObject({ err: expect.any(Number) });
      expect(relativeError(f32(mixed.out[q.grad!]), f32(plain.out[p.grad!])), p.name).toBeLessThan(1e-2);
    }
    for (const [i, s] of plain.step.runningStats.entries()) expect(relativeError(f32(mixed.out[mixed.step.runningStats[i].output]), f32(plain.out[s.output])), s.input).toBeLessThan(1e-3);
  }, 60_000);

  for (const name of ['resnet-d-bottleneck', 'mobilenetv2-narrow', 'convnext-narrow', 'fastai-head']) {
    it(`${name}: the fp16 AdamW step with loss scaling passes ORT's type check, is finite, and its loss and unscaled gradients match float32 (2e-2 overall, 5e-2 per parameter)`, async () => {
      const plain = await run(name, { optimizer: 'adamw', exposeGradients: true });
      // 2^8: at 2^16 some of these random-weight models' float16 gradients overflow (see below).
      const mixed = await run(name, { optimizer: 'adamw', fp16: true, lossScaling: true, exposeGradients: true }, 2 ** 8);
      expect((mixed.out[mixed.step.finite!].data as Uint8Array)[0]).toBe(1);
      expect(Math.abs(f32(mixed.out[mixed.step.loss])[0] / f32(plain.out[plain.step.loss])[0] - 1)).toBeLessThan(1e-2);
      const { half } = precisionOf(mixed.step);
      expect(half('Conv').every(Boolean)).toBe(true);
      if (name === 'convnext-narrow') expect(half('LayerNormalization').some(Boolean), 'LayerNorm in float32').toBe(false);
      // float16 rounding (2^-11 per op) accumulates to ~1e-2 (fastai-head: 1.1e-2 overall); gradients that
      // are rounding noise in float32 too (‖g‖ < 1e-3 of the global norm, e.g. before a residual) are left out.
      const pairs = plain.step.parameters.map((p) => [f32(mixed.out[mixed.step.parameters.find((x) => x.name === p.name)!.grad!]), f32(plain.out[p.grad!]), p.name] as const);
      const concat = (k: 0 | 1) => {
        const all = new Float32Array(pairs.reduce((a, pair) => a + pair[k].length, 0));
        pairs.reduce((at, pair) => (all.set(pair[k], at), at + pair[k].length), 0);
        return all;
      };
      const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      const globalNorm = norm(concat(1));
      const global = relativeError(concat(0), concat(1));
      const worst = Math.max(...pairs.filter(([, g]) => norm(g) > 1e-3 * globalNorm).map(([h, g]) => relativeError(h, g)));
      console.log(`${name}: fp16 vs fp32 gradients, relative error ${global.toExponential(2)} overall, ${worst.toExponential(2)} worst parameter`);
      expect(global).toBeLessThan(2e-2);
      expect(worst).toBeLessThan(5e-2);
    }, 60_000);
  }

  it('mobilenetv2-narrow at loss scale 2^16: float16 gradients overflow (‖g‖ ≈ 88 unscaled), the step says so and keeps every weight and state', async () => {
    const mixed = await run('mobilenetv2-narrow', { optimizer: 'adamw', fp16: true, lossScaling: true }, 2 ** 16);
    expect((mixed.out[mixed.step.finite!].data as Uint8Array)[0]).toBe(0);
    expect(Number.isFinite(f32(mixed.out[mixed.step.loss])[0])).toBe(true);
    for (const p of mixed.step.parameters) {
      expect(f32(mixed.out[p.output])).toEqual(p.value.data);
      for (const s of p.states) expect(f32(mixed.out[s.output]).every((v) => v === 0)).toBe(true);
    }
  }, 60_000);
});
