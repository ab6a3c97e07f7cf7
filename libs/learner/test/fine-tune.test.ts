// freeze/unfreeze and fine_tune on a real tiny ResNet: frozen weights stay bit-identical while
// BatchNorm keeps training, per-group learning rates follow fastai's slices, and each frozen
// state is compiled once.
import { describe, expect, it } from 'vitest';
import { Learner, resnetParamGroups } from '../src/index.ts';
import { loaders, stateArrays, tinyModel } from './tiny.ts';

describe('freeze', () => {
  it('freezes the body except BatchNorm: frozen weights and their optimizer state are bit-identical after an epoch; BN weights, BN stats and the head change', async () => {
    const learn = await Learner.create(tinyModel(), loaders(16), { threads: 2 });
    expect(learn.groups).toEqual(['body', 'head']);
    await learn.freeze();
    const before = stateArrays(learn.engine.state());
    await learn.fit(1, 1e-2);
    const after = stateArrays(learn.engine.state());
    const changed = (name: string) => !after.get(name)!.every((v, i) => v === before.get(name)![i]);
    expect(changed('stem.0.conv.weight')).toBe(false);
    expect(changed('layer2.0.conv1.conv.weight')).toBe(false);
    expect(changed('stem.0.conv.weight.exp_avg')).toBe(false);
    expect(changed('stem.0.bn.weight')).toBe(true);
    expect(changed('stem.0.bn.bias')).toBe(true);
    expect(changed('stem.0.bn.running_mean')).toBe(true);
    expect(changed('fc.weight')).toBe(true);
    expect(changed('fc.bias')).toBe(true);
    // Adam steps per hyper group: body conv weights never stepped.
    expect(learn.engine.snapshot().steps).toEqual({ 'body.bn': 8, 'head.wd': 8, 'head.no_wd': 8 });
    expect(resnetParamGroups('fc.weight')).toBe('head');
  }, 60_000);

  it('fine_tune: phase 1 frozen with slice(base_lr) and pct_start 0.99, phase 2 unfrozen with slice(base_lr/2/lr_mult, base_lr/2), div 5; two compiled states, reused', async () => {
    const learn = await Learner.create(tinyModel(), loaders(16), { threads: 2 });
    const records = await learn.fineTune(1);
    expect(records).toHaveLength(2);
    const g = learn.recorder.groupLrs;
    expect(g).toHaveLength(16);
    // Phase 1, batch 0: (2e-4, 2e-3)/25
    expect(g[0][0]).toBeCloseTo(8e-6, 18);
    expect(g[0][1]).toBeCloseTo(8e-5, 17);
    // Phase 1, batch 4 of 8: pos 0.5 of the 0.99 warm-up: 8e-5 + (1 + cos(π(1 − 0.5/0.99)))·(2e-3 − 8e-5)/2
    expect(g[4][1]).toBeCloseTo(8e-5 + ((1 + Math.cos(Math.PI * (1 - 0.5 / 0.99))) * (2e-3 - 8e-5)) / 2, 15);
    // Phase 2, batch 0: (1e-5, 1e-3)/5
    expect(g[8][0]).toBeCloseTo(2e-6, 18);
    expect(g[8][1]).toBeCloseTo(2e-4, 16);
    // Phase 2, batch 4 of 8: pos 0.5, past pct_start 0.3: 1e-3 + (1 + cos(π(1 − 0.2/0.7)))·(1e-8 − 1e-3)/2
    expect(g[12][1]).toBeCloseTo(1e-3 + ((1 + Math.cos(Math.PI * (1 - 0.2 / 0.7))) * (1e-8 - 1e-3)) / 2, 15);
    expect(learn.recorder.moms[8]).toBeCloseTo(0.95, 12);
    expect(learn.frozenGroups).toBe(0);
    expect(learn.engine.compilations).toBe(2);
    await learn.freeze();
    await learn.unfreeze();
    await learn.freeze();
    expect(learn.engine.compilations).toBe(2);
    // After the frozen phase the body's Adam steps start at 1: 8 steps for body.wd, 16 for head.wd.
    expect(learn.engine.snapshot().steps).toMatchObject({ 'body.wd': 8, 'body.bn': 16, 'head.wd': 16 });
  }, 60_000);
});
