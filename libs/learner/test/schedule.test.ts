import { describe, expect, it } from 'vitest';
import { oneCycle, schedCos } from '../src/index.ts';

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
});
