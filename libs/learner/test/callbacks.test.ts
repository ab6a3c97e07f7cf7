// Callbacks on a real Learner (cancel a batch, cancel the fit, SaveModel, CSVLogger), trackers on
// constructed epoch records, metrics on constructed logits, and plot_loss.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSVLogger, CancelBatchException, CancelFitException, EarlyStopping, Learner, SaveModel, Tracker, accuracy, errorRate, metric, topKAccuracy, type Callback, type CallbackContext, type EpochRecord } from '../src/index.ts';
import { loaders, tinyModel } from './tiny.ts';

const rec = (epoch: number, validLoss: number, acc = 0.5): EpochRecord => ({ epoch, trainLoss: 1, validLoss, errorRate: 1 - acc, accuracy: acc, metrics: { accuracy: acc }, seconds: 1, imagesPerSecond: 1 });

describe('trackers', () => {
  it('EarlyStopping(patience=2) stops at the second epoch without improvement', () => {
    const es = new EarlyStopping({ patience: 2 });
    es.beforeFit();
    const losses = [1, 0.9, 0.95, 0.96, 0.5];
    let stopped = -1;
    for (const [epoch, l] of losses.entries()) {
      const ctx = { epoch, lastRecord: rec(epoch, l) } as unknown as CallbackContext;
      try {
        es.afterEpoch(ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(CancelFitException);
        stopped = epoch;
        break;
      }
    }
    expect(stopped).toBe(3);
  });

  it('min_delta: an improvement must beat the best by more than min_delta; accuracy is maximised', () => {
    const t = new Tracker({ minDelta: 0.1 });
    expect(t.update(rec(0, 1))).toBe(true);
    expect(t.update(rec(1, 0.95))).toBe(false);
    expect(t.update(rec(2, 0.85))).toBe(true);
    expect(t.best).toBe(0.85);
    const a = new Tracker({ monitor: 'accuracy' });
    expect(a.comp).toBe('max');
    a.update(rec(0, 1, 0.6));
    expect(a.update(rec(1, 1, 0.55))).toBe(false);
    expect(() => new Tracker({ monitor: 'f1' }).update(rec(0, 1))).toThrow(/monitor "f1".*accuracy/);
  });
});

describe('metrics', () => {
  it('accuracy, error_rate, top-k and user metrics on known logits', () => {
    // rows: argmax 2 (label 2 ✓), argmax 0 (label 1 ✗, 2nd), argmax 1 (label 0 ✗, 3rd)
    const logits = Float32Array.from([0, 1, 2, 3, 2, 1, 1, 3, 2]);
    const labels = Int32Array.from([2, 1, 0]);
    expect(accuracy.fn(logits, labels, 3)).toBeCloseTo(1 / 3, 12);
    expect(errorRate.fn(logits, labels, 3)).toBeCloseTo(2 / 3, 12);
    expect(topKAccuracy(2).fn(logits, labels, 3)).toBeCloseTo(2 / 3, 12);
    expect(topKAccuracy(3).fn(logits, labels, 3)).toBe(1);
    expect(topKAccuracy(2).name).toBe('top_2_accuracy');
    const first = metric('first_is_zero', (_, y) => (y[0] === 0 ? 1 : 0));
    expect(first.fn(logits, labels, 3)).toBe(0);
  });
});

describe('callbacks on a Learner', () => {
  it('CancelBatchException skips the step (after_batch still runs); CancelFitException ends the fit (after_fit still runs)', async () => {
    const events: string[] = [];
    const skipFirst: Callback = {
      beforeBatch: (l) => {
        if (l.iter === 0) throw new CancelBatchException();
      },
      afterCancelBatch: () => void events.push('cancelBatch'),
      afterBatch: () => void events.push('batch'),
    };
    const learn = await Learner.create(tinyModel(), loaders(16), { threads: 2, metrics: [errorRate, accuracy, topKAccuracy(1)], callbacks: [skipFirst] });
    const records = await learn.fit(1, 1e-3);
    expect(learn.recorder.losses).toHaveLength(7);
    expect(events.filter((e) => e === 'batch')).toHaveLength(8);
    expect(events.filter((e) => e === 'cancelBatch')).toHaveLength(1);
    expect(Object.keys(records[0].metrics)).toEqual(['error_rate', 'accuracy', 'top_1_accuracy']);
    expect(records[0].metrics.accuracy).toBeCloseTo(1 - records[0].metrics.error_rate, 12);
    expect(records[0].metrics.top_1_accuracy).toBe(records[0].metrics.accuracy);

    const after: string[] = [];
    const stop: Callback = {
      afterBatch: (l) => {
        if (l.iter === 2) throw new CancelFitException();
      },
      afterCancelFit: () => void after.push('cancelFit'),
      afterFit: () => void after.push('fit'),
    };
    const more = await learn.fit(2, 1e-3, { callbacks: [stop] });
    expect(more).toHaveLength(0);
    // The Learner's own callback still skips batch 0; batches 1 and 2 train, then the fit stops.
    expect(learn.recorder.losses).toHaveLength(7 + 2);
    expect(after).toEqual(['cancelFit', 'fit']);
  }, 60_000);

  it('SaveModel hands over the best model by valid_loss and reloads it at the end; CSVLogger writes a row per epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-cb-'));
    const saved: number[] = [];
    const save = new SaveModel((model, r) => void saved.push(r.epoch), { monitor: 'valid_loss' });
    const csv = new CSVLogger(join(dir, 'history.csv'));
    const learn = await Learner.create(tinyModel(), loaders(16), { threads: 2, callbacks: [save, csv] });
    const records = await learn.fitOneCycle(3, 1e-2);
    const bestEpoch = records.reduce((b, r) => (r.validLoss < b.validLoss ? r : b)).epoch;
    expect(save.bestEpoch).toBe(bestEpoch);
    expect(saved[saved.length - 1]).toBe(bestEpoch);
    expect((await learn.validate()).loss).toBeCloseTo(records[bestEpoch].validLoss, 5);
    const lines = readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('epoch,train_loss,valid_loss,error_rate,time');
    expect(lines).toHaveLength(4);
    expect(Number(lines[3].split(',')[2])).toBe(records[2].validLoss);

    const plot = await learn.recorder.plotLoss();
    expect(plot.png.subarray(1, 4).toString()).toBe('PNG');
    expect(learn.recorder.epochEnds).toEqual([8, 16, 24]);
  }, 60_000);
});
