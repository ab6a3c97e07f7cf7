// lr_find's suggestions on constructed loss curves with known answers (cross-checked against
// fastai 2.7's Python definitions), NaN and too-short runs, and the sweep on a real Learner.
import { describe, expect, it } from 'vitest';
import { Learner, formatSuggestions, minimum, plotLrFind, slide, steep, suggest, suggestionPoints, valley } from '../src/index.ts';
import { loaders, stateArrays, tinyModel } from './tiny.ts';

const lrsOf = (n: number) => Array.from({ length: n }, (_, i) => 10 ** (i - 5));

describe('lr_find suggestions', () => {
  it('minimum: the lr at the lowest loss ÷ 10', () => {
    const s = minimum(lrsOf(7), [5, 4, 3, 2, 1, 2, 3]);
    expect(s.lr).toBeCloseTo(10 ** -1 / 10, 15);
    expect(s.point).toEqual([10 ** -1, 1]);
  });

  it('steep: the lr where loss falls fastest per log lr', () => {
    // slopes per decade: −0.1, −0.1, −2.8, −0.1, −0.1 → the third point (index 2)
    expect(steep(lrsOf(6), [5, 4.9, 4.8, 2, 1.9, 1.8]).lr).toBe(lrsOf(6)[2]);
  });

  it('valley: start + L/3 + L/6 inside the longest decreasing run', () => {
    // The longest decreasing subsequence is 3.5 ≥ … 3, 2.5, 2, 1.5, 1, 0.5 (length 7, ends at 7),
    // start = 7 − 7 = 0; sections = 7/3; index = 0 + 2 + 1 = 3 (fastai's Python gives 3 too).
    const lrs = lrsOf(10);
    expect(valley(lrs, [3, 3.5, 3, 2.5, 2, 1.5, 1, 0.5, 1, 2]).lr).toBe(lrs[3]);
    // A run from index 0 of length 2: fastai's index would be −1 (the last lr); clamped to 0.
    expect(valley(lrsOf(5), [2, 1, 3, 4, 5]).lr).toBe(lrsOf(5)[0]);
    expect(valley([1], [7]).lr).toBe(1);
  });

  it('slide: moves left until the loss gradient at both window ends agrees within 0.005', () => {
    // Linear descent (gradient −0.1) up to index 19, then a steep rise. The window (r, r − 15)
    // slides left until r is inside the linear part (r = 18, l = 3); the last lr remembered is lrs[4].
    const losses = Array.from({ length: 30 }, (_, i) => (i < 20 ? 10 - 0.1 * i : 8 + (i - 19) ** 2 * 0.5));
    const lrs = Array.from({ length: 30 }, (_, i) => 1e-6 * 1.5 ** i);
    const s = slide(lrs, losses);
    expect(s.lr).toBe(lrs[4]);
    expect(s.point[1]).toBeCloseTo(losses[4], 9);
    // Constant gradient: no move at all, lrs[n − 16].
    expect(slide(lrs, lrs.map((_, i) => 5 - 0.01 * i)).lr).toBe(lrs[14]);
  });

  it('uses losses[num_it//10 : −5] and cuts at the first NaN', () => {
    const n = 100;
    const lrs = lrsOf(n);
    const losses = lrs.map((_, i) => 10 - i * 0.01);
    expect(suggestionPoints(lrs, losses, 100).losses).toHaveLength(85);
    expect(suggestionPoints(lrs, losses, 100).lrs[0]).toBe(lrs[10]);
    losses[50] = NaN;
    const p = suggestionPoints(lrs, losses, 100);
    expect(p.losses).toHaveLength(40);
    expect(p.losses.every(Number.isFinite)).toBe(true);
    const s = suggest(lrs, losses, 100);
    expect(s.minimum.lr).toBeCloseTo(lrs[49] / 10, 12);
  });

  it('never throws: NaN everywhere, too few points', () => {
    const all = suggest([1, 2, 3, 4, 5, 6, 7, 8], Array(8).fill(NaN), 6);
    for (const v of Object.values(all)) expect(v.lr).toBeNaN();
    // 7 points, num_it 6: slice [0 : 2] leaves 2 points — minimum/steep/valley work, slide cannot.
    const short = suggest(lrsOf(7), [3, 2, 1, 1, 1, 1, 1], 6);
    expect(short.minimum.lr).toBeCloseTo(lrsOf(7)[1] / 10, 15);
    expect(short.steep.lr).toBe(lrsOf(7)[0]);
    expect(short.valley.lr).toBe(lrsOf(7)[0]);
    expect(short.slide.lr).toBeNaN();
    const empty = suggest([1, 2, 3], [1, 2, 3], 6);
    expect(empty.minimum.lr).toBeNaN();
    expect(formatSuggestions(empty)).toContain('minimum: n/a');
  });
});

describe('Learner.lrFind', () => {
  it('sweeps lr exponentially, stops on divergence, raises num_it to 6, and restores weights, optimizer and BN state bit for bit, before and after training', async () => {
    const learn = await Learner.create(tinyModel(), loaders(16), { threads: 2 });
    const before = stateArrays(learn.engine.state());
    const r = await learn.lrFind({ numIt: 20, endLr: 1e-2 });
    expect(r.lrs).toHaveLength(20);
    r.lrs.forEach((lr, i) => expect(lr).toBeCloseTo(1e-7 * (1e-2 / 1e-7) ** (i / 20), 18));
    expect(stateArrays(learn.engine.state())).toEqual(before);
    expect(learn.recorder.losses).toHaveLength(0);
    expect(Number.isFinite(r.suggestions.valley.lr)).toBe(true);

    expect((await learn.lrFind({ numIt: 3, endLr: 1e-3 })).lrs).toHaveLength(6);

    await learn.fitOneCycle(1, 1e-2);
    const trained = stateArrays(learn.engine.state());
    const steps = learn.engine.snapshot().steps;
    const diverging = await learn.lrFind({ numIt: 100, startLr: 1e-1, endLr: 1e6 });
    expect(diverging.diverged).toBe(true);
    expect(diverging.lrs.length).toBeLessThan(100);
    expect(stateArrays(learn.engine.state())).toEqual(trained);
    expect(learn.engine.snapshot().steps).toEqual(steps);
    expect(learn.recorder.losses).toHaveLength(8);

    const png = await plotLrFind(r);
    expect(png.png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.svg).toContain('valley');
  }, 60_000);
});
