// The fp16 training step (float16 forward/backward, float32 master weights, BatchNorm, loss and
// update) on the fixture models: its structure (which nodes compute in which precision; ORT's
// type check at session creation) and its values against the float32 step. ORT's CPU provider
// runs the float16 nodes it has no float16 kernel for through casts to float32, so on CPU the
// values come out close to the float32 step; float16 rounding itself shows only on CUDA.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, loadModel } from '@paddock/onnx';
import { Random } from '@paddock/tensor';
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

/** One step on the fixture batch; `inputNoise` multiplies each input value by (1 + noise·N(0, 1)). */
async function run(name: string, options: Partial<TrainStepOptions>, lossScale = 2 ** 16, inputNoise = 0) {
  const dir = join(fixturesDir, 'train-step', name);
  const c = readCase(dir);
  const step = buildTrainStep(loadModel(join(dir, 'model.onnx')), { batchSize: c.N, optimizer: 'none', source: name, ...options });
  const session = await ort.InferenceSession.create(encodeModel(step.model));
  const input = readDesc(dir, c.tensors.input);
  const noise = new Random(5);
  const x = inputNoise ? Float32Array.from(input.data as Float32Array, (v) => v * (1 + inputNoise * noise.normal())) : (input.data as Float32Array);
  const feeds: Record<string, ort.Tensor> = { [step.input]: new ort.Tensor('float32', x, input.shape as number[]), [step.labels]: ortTensor(readDesc(dir, c.tensors.labels)) };
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

type Run = Awaited<ReturnType<typeof run>>;

const gradients = (r: Run, names: string[]) => {
  const parts = names.map((name) => f32(r.out[r.step.parameters.find((p) => p.name === name)!.grad!]));
  const all = new Float32Array(parts.reduce((a, g) => a + g.length, 0));
  parts.reduce((at, g) => (all.set(g, at), at + g.length), 0);
  return { parts, all };
};
const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

/**
 * float16 rounding (2^-11 per op) accumulates to 1–2 % in single parameters. Some steps are
 * ill-conditioned in float32 already (mobilenetv2-narrow: BatchNorm in training mode over 4
 * images, and an input moved by 2e-4 of itself moves its gradients by 40 %), so the bound is the
 * larger of 2e-2 and twice the float32 step's own change under that input noise (`sensitivity`).
 * Gradients that are rounding noise in float32 too (‖g‖ < 1e-3 of the global norm) are left out.
 */
function expectGradientsClose(name: string, plain: Run, mixed: Run, sensitivity: number): void {
  const names = plain.step.parameters.map((p) => p.name);
  const [h, g] = [gradients(mixed, names), gradients(plain, names)];
  const global = relativeError(h.all, g.all);
  const worst = Math.max(...names.map((_, i) => i).filter((i) => norm(g.parts[i]) > 1e-3 * norm(g.all)).map((i) => relativeError(h.parts[i], g.parts[i])));
  console.log(`${name}: fp16 vs fp32 gradients, relative error ${global.toExponential(2)} overall, ${worst.toExponential(2)} worst parameter; fp32 under 2e-4 input noise: ${sensitivity.toExponential(2)}`);
  expect(global).toBeLessThan(Math.max(2e-2, 2 * sensitivity));
  expect(worst).toBeLessThan(Math.max(5e-2, 4 * sensitivity));
}

/** How much the float32 step's gradients move when its input moves by 2e-4 of itself. */
async function sensitivityOf(name: string, plain: Run): Promise<number> {
  const noisy = await run(name, { optimizer: 'adamw', exposeGradients: true }, 2 ** 16, 2e-4);
  const names = plain.step.parameters.map((p) => p.name);
  return relativeError(gradients(noisy, names).all, gradients(plain, names).all);
}

describe.skipIf(!haveFixtures)('fp16 training step', () => {
  it('resnet-basic: convolutions and their gradients in float16; BatchNorm statistics, loss, gradients out and outputs in float32; values match the float32 step (gradients 2e-2 overall)', async () => {
    const plain = await run('resnet-basic', {});
    const mixed = await run('resnet-basic', { fp16: true });
    const { floats, half } = precisionOf(mixed.step);
    // Every Conv (forward and input gradient), ConvTranspose and Gemm (weight gradients) reads float16.
    for (const op of ['Conv', 'ConvTranspose', 'Gemm']) {
      expect(half(op).length, op).toBeGreaterThan(0);
      expect(half(op).every(Boolean), `${op} in float16`).toBe(true);
    }
    expect(half('SoftmaxCrossEntropyLoss')).toEqual([false]);
    expect(half('BatchNormalization').length).toBeGreaterThan(0);
    expect(half('BatchNormalization').some(Boolean), 'BatchNorm in float32').toBe(false);
    for (const o of mixed.step.model.graph.outputs) expect(floats.has(o.name), o.name).toBe(true);
    expect(mixed.step.model.graph.inputs.filter((i) => i.dtype !== 'float32' && i.dtype !== 'int64')).toEqual([]);

    expect(f32(mixed.out[mixed.step.loss])[0]).toBeCloseTo(f32(plain.out[plain.step.loss])[0], 2);
    expect(relativeError(f32(mixed.out[mixed.step.logits]), f32(plain.out[plain.step.logits]))).toBeLessThan(1e-2);
    expectGradientsClose('resnet-basic', plain, mixed, 0);
    for (const [i, s] of plain.step.runningStats.entries()) expect(relativeError(f32(mixed.out[mixed.step.runningStats[i].output]), f32(plain.out[s.output])), s.input).toBeLessThan(1e-3);
  }, 60_000);

  for (const name of ['resnet-d-bottleneck', 'mobilenetv2-narrow', 'convnext-narrow', 'fastai-head']) {
    it(`${name}: the fp16 AdamW step with loss scaling passes ORT's type check, is finite, and its loss and unscaled gradients match float32 (2e-2 overall, 5e-2 per parameter, or the float32 step's own sensitivity)`, async () => {
      const plain = await run(name, { optimizer: 'adamw', exposeGradients: true });
      // 2^8: at 2^16 some of these random-weight models' float16 gradients overflow (see below).
      const mixed = await run(name, { optimizer: 'adamw', fp16: true, lossScaling: true, exposeGradients: true }, 2 ** 8);
      expect((mixed.out[mixed.step.finite!].data as Uint8Array)[0]).toBe(1);
      expect(Math.abs(f32(mixed.out[mixed.step.loss])[0] / f32(plain.out[plain.step.loss])[0] - 1)).toBeLessThan(1e-2);
      const { half } = precisionOf(mixed.step);
      expect(half('Conv').every(Boolean)).toBe(true);
      if (name === 'convnext-narrow') expect(half('LayerNormalization').some(Boolean), 'LayerNorm in float32').toBe(false);
      expectGradientsClose(name, plain, mixed, await sensitivityOf(name, plain));
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
