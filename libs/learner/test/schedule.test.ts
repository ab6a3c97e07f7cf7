import { describe, expect, it } from 'vitest';
import { evenMults, fineTuneSteps, lrRange, oneCycle, oneCycleGroups, schedCos, schedExp, slice } from '../src/index.ts';

describe('one-cycle schedule (fastai)', () => {
  it('starts at lr_max/div, peaks at pct_start, ends at lr_max/div_final', () => {
    const { lr, mom } = oneCycle(1e-2);
    expect(lr(0)).toBeCloseTo(1e-2 / 25, 12);
    expect(lr(0.25)).toBeCloseTo(1e-2, 12);
    expect(lr(1)).toBeCloseTo(1e-2 / 1e5, 15);
    expect(mom(0)).toBeCloseTo(0.95, 12);
    expect(mom(0.25)).toBeCloseTo(0.85, 12);
    expect(mom(1)).toBeCloseTo(0.95, 12);
  });

  it('follows the cosine pieces at chosen positions (hand-computed)', () => {
    const { lr, mom } = oneCycle(1e-3, { pctStart: 0.25 });
    // pos 0.125 is halfway up: 4e-5 + (1 + cos(π/2))·(1e-3 − 4e-5)/2 = 5.2e-4
    expect(lr(0.125)).toBeCloseTo(5.2e-4, 12);
    // pos 0.625 is halfway down: 1e-3 + (1 + cos(π/2))·(1e-8 − 1e-3)/2 = 5.00005e-4
    expect(lr(0.625)).toBeCloseTo(5.00005e-4, 12);
    expect(mom(0.125)).toBeCloseTo(0.9, 12);
    // a quarter into phase 2: 0.85 + (1 + cos(3π/4))·0.1/2
    expect(mom(0.25 + 0.75 / 4)).toBeCloseTo(0.85 + ((1 + Math.cos((3 * Math.PI) / 4)) * 0.1) / 2, 12);
    expect(schedCos(2, 4)(0.5)).toBeCloseTo(3, 12);
  });

  it('lr_find grows exponentially: 1e-7·(1e8)^pos', () => {
    expect(schedExp(1e-7, 10)(0)).toBeCloseTo(1e-7, 20);
    expect(schedExp(1e-7, 10)(0.5)).toBeCloseTo(1e-3, 15);
    expect(schedExp(1e-7, 10)(0.25)).toBeCloseTo(1e-5, 17);
  });
});

describe('per-group learning rates (fastai lr_range)', () => {
  it('slice(a, b) spreads geometrically; slice(b) gives b/10 to all but the last group', () => {
    expect(lrRange(slice(1e-5, 1e-3), 2)).toEqual([1e-5, 1e-3]);
    const three = lrRange(slice(1e-5, 1e-3), 3);
    [1e-5, 1e-4, 1e-3].forEach((v, i) => expect(three[i]).toBeCloseTo(v, 15));
    expect(lrRange(slice(1e-3), 3)).toEqual([1e-4, 1e-4, 1e-3]);
    expect(lrRange(slice(2e-3), 2)).toEqual([2e-4, 2e-3]);
    expect(lrRange(3e-3, 2)).toEqual([3e-3, 3e-3]);
    expect(evenMults(1, 16, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(() => lrRange([1, 2, 3], 2)).toThrow(/3 learning rates for 2/);
  });

  it('fine_tune: frozen phase slice(base_lr) pct 0.99 div 25, then slice(base_lr/2/100, base_lr/2) pct 0.3 div 5', () => {
    const steps = fineTuneSteps(3);
    expect(steps).toEqual([
      { freeze: true },
      { fitOneCycle: { epochs: 1, lrMax: { stop: 2e-3 }, pctStart: 0.99 } },
      { unfreeze: true },
      { fitOneCycle: { epochs: 3, lrMax: { start: 1e-5, stop: 1e-3 }, pctStart: 0.3, div: 5 } },
    ]);
    // Phase 1 on (body, head) = (2e-4, 2e-3): start 8e-6, 8e-5; peak at pos 0.99.
    const p1 = oneCycleGroups(lrRange(slice(2e-3), 2), { pctStart: 0.99 });
    expect(p1.lrs(0)[0]).toBeCloseTo(8e-6, 18);
    expect(p1.lrs(0)[1]).toBeCloseTo(8e-5, 17);
    expect(p1.lrs(0.99)[1]).toBeCloseTo(2e-3, 15);
    // halfway up (pos 0.495): (8e-5 + 2e-3)/2 = 1.04e-3
    expect(p1.lrs(0.495)[1]).toBeCloseTo(1.04e-3, 15);
    // Phase 2 on (1e-5, 1e-3), div 5: start (2e-6, 2e-4); halfway up at pos 0.15: (2e-4 + 1e-3)/2 = 6e-4
    const p2 = oneCycleGroups(lrRange(slice(1e-5, 1e-3), 2), { pctStart: 0.3, div: 5 });
    expect(p2.lrs(0)[0]).toBeCloseTo(2e-6, 18);
    expect(p2.lrs(0)[1]).toBeCloseTo(2e-4, 16);
    expect(p2.lrs(0.15)[1]).toBeCloseTo(6e-4, 15);
    expect(p2.lrs(0.15)[0]).toBeCloseTo(6e-6, 17);
    // halfway down at pos 0.65: (1e-3 + 1e-8)/2
    expect(p2.lrs(0.65)[1]).toBeCloseTo(5.00005e-4, 15);
    expect(p2.mom(0.15)).toBeCloseTo(0.9, 12);
    expect(fineTuneSteps(2, { freezeEpochs: 0 })).toHaveLength(3);
  });
});
