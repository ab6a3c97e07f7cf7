// What the engine's step does around the update: dynamic loss scaling (an injected overflow skips
// the step with weights, AdamW state and step counts bit-identical, halves the scale; clean steps
// double it; a scaled run equals an unscaled one that never saw the bad batch), gradient clipping
// on a Learner, fp16 on a Learner, and the carried buffers reused between steps.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model } from '@paddock/onnx';
import { Random, tensor, type Tensor } from '@paddock/tensor';
import { DynamicLossScaler, GradientClip, Learner, Recorder, TrainingEngine, decodeCheckpoint, encodeCheckpoint, type LearnerCheckpoint } from '../src/index.ts';
import { loaders, stateArrays, tinyModel } from './tiny.ts';

const N = 4;
const K = 5;
const C = 3;

/** logits = x·W (no bias, no BatchNorm): a huge input reaches the weight gradient undamped. */
function linear(): Model {
  const b = new GraphBuilder('linear');
  b.input('input', 'float32', ['N', K]);
  b.initializer('fc.weight', tensor('float32', [K, C], Float32Array.from({ length: K * C }, (_, i) => Math.sin(i + 1))));
  b.output(b.op('MatMul', ['input', 'fc.weight'], {}, { outputs: ['logits'] }), 'float32', ['N', C]);
  return b.build();
}

function batch(seed: number, overflow = false): { images: Tensor<'float32'>; labels: Tensor<'int64'> } {
  const r = new Random(seed);
  const x = Float32Array.from({ length: N * K }, () => r.normal());
  // fc.weight[0, :] = sin(1), sin(2), sin(3): x₀ = −1e36 makes class 2 win by ~1e35 for a
  // sample labelled 0, so d loss/d W[0, ·] ≈ ±x₀/N, times the scale 2^16 → inf in float32.
  if (overflow) x[0] = -1e36;
  return { images: tensor('float32', [N, K], x), labels: tensor('int64', [N], BigInt64Array.of(0n, 2n, 1n, 2n)) };
}

const hyper = () => ({ lr: 1e-2, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 });

describe('dynamic loss scaling', () => {
  it('the policy: halve on overflow, double after growthInterval clean steps in a row (torch GradScaler)', () => {
    const s = new DynamicLossScaler({ growthInterval: 3 });
    expect(s.scale).toBe(65536);
    s.update(true);
    s.update(true);
    s.update(false);
    expect(s.state()).toEqual({ scale: 32768, cleanSteps: 0, skipped: 1 });
    s.update(true);
    s.update(true);
    expect(s.scale).toBe(32768);
    s.update(true);
    expect(s.state()).toEqual({ scale: 65536, cleanSteps: 0, skipped: 1 });
    expect(new DynamicLossScaler().state().scale).toBe(2 ** 16);
    expect(() => new DynamicLossScaler({ growthInterval: 0 })).toThrow(/growthInterval/);
  });

  it('an injected overflow skips the step bit for bit, halves the scale; 3 clean steps double it; the run equals one without the bad batch', async () => {
    const scaled = await TrainingEngine.create(linear(), { batchSize: N, threads: 1, lossScaling: { growthInterval: 3 } });
    const plain = await TrainingEngine.create(linear(), { batchSize: N, threads: 1 });
    try {
      expect((await scaled.trainBatch(batch(1).images, batch(1).labels, hyper)).skipped).toBe(false);
      await plain.trainBatch(batch(1).images, batch(1).labels, hyper);
      const before = scaled.snapshot();
      const bad = batch(9, true);
      const r = await scaled.trainBatch(bad.images, bad.labels, hyper);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.skipped).toBe(true);
      expect(r.gradNorm).toBe(Infinity);
      const after = scaled.snapshot();
      expect(stateArrays(after.tensors)).toEqual(stateArrays(before.tensors));
      expect(after.steps).toEqual(before.steps);
      expect(after.lossScaler).toEqual({ scale: 2 ** 15, cleanSteps: 0, skipped: 1 });

      // Resume from the snapshot through a checkpoint file: the scaler state travels with it.
      const c: LearnerCheckpoint = { format: 'paddock.checkpoint/1', engine: after, recorder: new Recorder().state(), frozenTo: 0, epochsDone: 0, mom: 0.9, position: { step: 0, epoch: 0 } };
      const resumed = await TrainingEngine.create(linear(), { batchSize: N, threads: 1, lossScaling: { growthInterval: 3 } });
      resumed.restore(decodeCheckpoint(encodeCheckpoint(c)).checkpoint.engine);
      expect(resumed.lossScale).toEqual({ scale: 2 ** 15, cleanSteps: 0, skipped: 1 });

      for (const seed of [2, 3, 4]) {
        const b = batch(seed);
        expect(scaled.lossScale!.scale).toBe(2 ** 15);
        expect((await scaled.trainBatch(b.images, b.labels, hyper)).skipped).toBe(false);
        await resumed.trainBatch(b.images, b.labels, hyper);
        await plain.trainBatch(b.images, b.labels, hyper);
      }
      expect(scaled.lossScale).toEqual({ scale: 2 ** 16, cleanSteps: 0, skipped: 1 });
      // Scaling by powers of two is exact, and Adam's step count skipped the bad batch: bit-identical.
      expect(scaled.snapshot().steps).toEqual({ all: 4 });
      expect(stateArrays(scaled.state())).toEqual(stateArrays(plain.state()));
      expect(stateArrays(resumed.state())).toEqual(stateArrays(plain.state()));
      await resumed.release();
    } finally {
      await scaled.release();
      await plain.release();
    }
  }, 60_000);
});

describe('gradient clipping on a Learner', () => {
  it('a max_norm above every gradient norm trains bit-identically; GradientClip(1e-3) clips and reports the norm', async () => {
    const plain = await Learner.create(tinyModel(), loaders(16), { threads: 1 });
    const loose = await Learner.create(tinyModel(), loaders(16), { threads: 1, gradClip: 1e9 });
    const tight = await Learner.create(tinyModel(), loaders(16), { threads: 1, callbacks: [new GradientClip(1e-3)] });
    try {
      for (const l of [plain, loose, tight]) await l.fit(1, 1e-2);
      expect(plain.gradNorm).toBeUndefined();
      expect(loose.gradNorm).toBeGreaterThan(1e-3);
      expect(tight.gradNorm).toBeGreaterThan(1e-3);
      expect(stateArrays(loose.engine.state())).toEqual(stateArrays(plain.engine.state()));
      // Clipped steps are ≤ 1e-3 in gradient norm: the weights move less and differently.
      const moved = (l: Learner) => [...stateArrays(l.engine.state())].filter(([k]) => k === 'fc.weight').map(([, v]) => v)[0];
      expect(moved(tight)).not.toEqual(moved(plain));
      await expect(Learner.create(tinyModel(), loaders(16), { gradClip: 1, callbacks: [new GradientClip(2)] })).rejects.toThrow(/set twice/);
    } finally {
      for (const l of [plain, loose, tight]) await l.engine.release();
    }
  }, 120_000);
});

describe('fp16 on a Learner (CPU: ORT runs the float16 nodes through float32 casts)', () => {
  it('trains with the fp16 graph and loss scaling at 2^16; weights and validation loss stay near the float32 run', async () => {
    const plain = await Learner.create(tinyModel(), loaders(16), { threads: 1 });
    const mixed = await Learner.create(tinyModel(), loaders(16), { threads: 1, fp16: true });
    try {
      const [a] = await plain.fit(1, 1e-2);
      const [b] = await mixed.fit(1, 1e-2);
      expect(mixed.engine.step.model.graph.nodes.some((n) => n.opType === 'Cast' && n.attrs.to?.kind === 'int' && n.attrs.to.value === 10)).toBe(true);
      // This seed's 8 steps never overflow at 2^16: none skipped, no growth yet (interval 2000).
      expect(mixed.engine.lossScale).toEqual({ scale: 2 ** 16, cleanSteps: 8, skipped: 0 });
      expect(b.validLoss).toBeCloseTo(a.validLoss, 2);
      const w = (l: Learner) => stateArrays(l.engine.state()).get('fc.weight')!;
      const d = w(mixed).reduce((m, v, i) => Math.max(m, Math.abs(v - w(plain)[i])), 0);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(1e-2);
    } finally {
      await plain.engine.release();
      await mixed.engine.release();
    }
  }, 120_000);
});

describe('carried buffers', () => {
  it('weights and AdamW state alternate between two buffers per value (no new buffer per step); the model given stays untouched', async () => {
    const model = linear();
    const before = Float32Array.from(model.graph.initializers.get('fc.weight')!.data as Float32Array);
    const engine = await TrainingEngine.create(model, { batchSize: N, threads: 1 });
    const plain = await TrainingEngine.create(linear(), { batchSize: N, threads: 1 });
    try {
      const buffers: ArrayBufferLike[][] = [];
      for (const seed of [1, 2, 3, 4]) {
        await engine.trainBatch(batch(seed).images, batch(seed).labels, hyper);
        buffers.push(['fc.weight', 'fc.weight.exp_avg'].map((name) => (engine['values'].get(name)!.data as Float32Array).buffer));
      }
      expect(buffers[2]).toEqual(buffers[0]);
      expect(buffers[3]).toEqual(buffers[1]);
      expect(buffers[1][0]).not.toBe(buffers[0][0]);
      expect(model.graph.initializers.get('fc.weight')!.data).toEqual(before);
      // The same four steps with a fresh engine: identical (nothing read a buffer after it was reused).
      for (const seed of [1, 2, 3, 4]) await plain.trainBatch(batch(seed).images, batch(seed).labels, hyper);
      expect(stateArrays(engine.state())).toEqual(stateArrays(plain.state()));
      expect(stateArrays(engine.state()).get('fc.weight')).not.toEqual(before);
    } finally {
      await engine.release();
      await plain.release();
    }
  }, 60_000);
});

