// Checkpoints: a run killed after its first epoch and resumed from the checkpoint ends with the
// same weights, optimizer state and metrics as the uninterrupted run with the same seed.
import { describe, expect, it } from 'vitest';
import type { Model } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
import { Learner, decodeCheckpoint, encodeCheckpoint, type LearnerCheckpoint, type PlanStep } from '../src/index.ts';
import { loaders, stateArrays, tinyModel } from './tiny.ts';

class Killed extends Error {}

describe('checkpoint and resume', () => {
  it('fine_tune(1) killed after the frozen epoch and resumed equals the uninterrupted run (1e-6)', async () => {
    const plan: PlanStep[] = [{ fineTune: { epochs: 1, baseLr: 1e-2 } }];
    const whole = await Learner.create(tinyModel(), loaders(16), { threads: 1 });
    const wholeRecords = (await whole.runPlan(plan)).records;

    let saved: Uint8Array | undefined;
    const first = await Learner.create(tinyModel(), loaders(16), {
      threads: 1,
      callbacks: [
        {
          afterEpoch(l) {
            saved = encodeCheckpoint((l as Learner).checkpoint(), { recipe: 'test' });
            throw new Killed('killed after one epoch');
          },
        },
      ],
    });
    await expect(first.runPlan(plan)).rejects.toBeInstanceOf(Killed);

    // As read from disk: a Node Buffer that is a view at an odd offset into a larger ArrayBuffer.
    const fromDisk = Buffer.concat([Buffer.alloc(3), Buffer.from(saved!)]).subarray(3);
    const { checkpoint, meta } = decodeCheckpoint(fromDisk);
    expect(meta).toEqual({ recipe: 'test' });
    expect(checkpoint.position).toEqual({ step: 1, epoch: 1 });
    expect(checkpoint.frozenTo).toBe(1);
    const resumed = await Learner.create(tinyModel(), loaders(16), { threads: 1 });
    await resumed.loadCheckpoint(checkpoint);
    const rest = (await resumed.runPlan(plan, { from: checkpoint.position })).records;
    expect(rest).toHaveLength(1);

    const a = stateArrays(whole.engine.state());
    const b = stateArrays(resumed.engine.state());
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    let worst = 0;
    for (const [name, va] of a) va.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.get(name)![i]))));
    expect(worst).toBeLessThan(1e-6);
    expect(resumed.recorder.epochs.map((e) => [e.trainLoss, e.validLoss, e.errorRate])).toEqual(wholeRecords.map((e) => [e.trainLoss, e.validLoss, e.errorRate]));
    expect(resumed.recorder.losses).toEqual(whole.recorder.losses);
    expect(resumed.engine.snapshot().steps).toEqual(whole.engine.snapshot().steps);
  }, 60_000);

  it('rejects a file that is not a checkpoint', () => {
    expect(() => decodeCheckpoint(new TextEncoder().encode('hello world'), 'x.bin')).toThrow(/x.bin: not a Paddock checkpoint/);
  });
});

/** The tiny ResNet with Dropout(0.5) before the classifier, as the fastai head has. */
function withDropout(): Model {
  const m = tinyModel();
  const nodes = [...m.graph.nodes];
  const gemm = nodes.findIndex((n) => n.opType === 'Gemm');
  const pooled = nodes[gemm].inputs[0];
  const initializers = new Map(m.graph.initializers);
  initializers.set('head.dropout.ratio', tensor('float32', [], Float32Array.of(0.5)));
  nodes.splice(gemm, 0, { name: 'head.dropout', opType: 'Dropout', inputs: [pooled, 'head.dropout.ratio'], outputs: ['dropped'], attrs: {}, domain: '' });
  nodes[gemm + 1] = { ...nodes[gemm + 1], inputs: ['dropped', ...nodes[gemm + 1].inputs.slice(1)] };
  return { ...m, graph: { ...m.graph, nodes, initializers } };
}

describe('Dropout masks', () => {
  it('are drawn from (seed, step): the same seed repeats, another differs, and a resumed fit draws what the uninterrupted one did', async () => {
    const run = async (seed: number) => {
      const learn = await Learner.create(withDropout(), loaders(16), { threads: 1, seed });
      await learn.fit(2, 1e-3);
      return learn;
    };
    const a = await run(1);
    expect((await run(1)).recorder.losses).toEqual(a.recorder.losses);
    expect((await run(2)).recorder.losses).not.toEqual(a.recorder.losses);

    let saved: LearnerCheckpoint | undefined;
    const first = await Learner.create(withDropout(), loaders(16), { threads: 1, seed: 1, callbacks: [{ afterEpoch: (l) => { saved = (l as Learner).checkpoint(); throw new Killed(); } }] });
    await expect(first.runPlan([{ fit: { epochs: 2, lr: 1e-3 } }])).rejects.toBeInstanceOf(Killed);
    const resumed = await Learner.create(withDropout(), loaders(16), { threads: 1, seed: 1 });
    await resumed.loadCheckpoint(decodeCheckpoint(encodeCheckpoint(saved!)).checkpoint);
    await resumed.runPlan([{ fit: { epochs: 2, lr: 1e-3 } }], { from: saved!.position });
    expect(resumed.recorder.losses).toEqual(a.recorder.losses);
  }, 60_000);
});
