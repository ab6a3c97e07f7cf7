// Callbacks: code that runs at fastai's events (before/after fit, epoch, batch) and may cancel a
// batch or the whole fit by throwing CancelBatchException / CancelFitException, as fastai does.
// after_* events still run after a cancel (fastai's _with_events); other errors propagate.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Model } from '@paddock/onnx';
import type { EngineSnapshot } from './engine.ts';
import type { EpochRecord } from './recorder.ts';

export class CancelBatchException extends Error {
  constructor(reason = 'batch cancelled') {
    super(reason);
  }
}

export class CancelFitException extends Error {
  constructor(reason = 'fit cancelled') {
    super(reason);
  }
}

/** What a callback sees of the Learner (it is the Learner; this is the part callbacks rely on). */
export interface CallbackContext {
  /** Epoch within the current fit, from 0. */
  readonly epoch: number;
  /** Epochs in the current fit. */
  readonly nEpoch: number;
  /** Batch within the current epoch, from 0. */
  readonly iter: number;
  /** Loss of the last batch. */
  readonly loss: number;
  readonly smoothLoss: number;
  /** The last finished epoch's record (in afterEpoch: this epoch's). */
  readonly lastRecord: EpochRecord | undefined;
  snapshot(): EngineSnapshot;
  restore(snapshot: EngineSnapshot): void;
  trainedModel(): Model;
}

export interface Callback {
  /** Lower runs first (fastai's order). */
  order?: number;
  beforeFit?(learn: CallbackContext): void | Promise<void>;
  beforeEpoch?(learn: CallbackContext): void | Promise<void>;
  beforeBatch?(learn: CallbackContext): void | Promise<void>;
  afterBatch?(learn: CallbackContext): void | Promise<void>;
  afterCancelBatch?(learn: CallbackContext): void | Promise<void>;
  afterEpoch?(learn: CallbackContext): void | Promise<void>;
  afterCancelFit?(learn: CallbackContext): void | Promise<void>;
  afterFit?(learn: CallbackContext): void | Promise<void>;
}

export type CallbackEvent = Exclude<keyof Callback, 'order'>;

/** The value a tracker watches: 'valid_loss', 'train_loss' or a metric name. */
export function monitored(record: EpochRecord, monitor: string): number {
  if (monitor === 'valid_loss') return record.validLoss;
  if (monitor === 'train_loss') return record.trainLoss;
  const v = record.metrics[monitor];
  if (v === undefined) throw new RangeError(`monitor "${monitor}" is not recorded; choose valid_loss, train_loss or one of ${Object.keys(record.metrics).join(', ')}`);
  return v;
}

export interface TrackerOptions {
  monitor?: string;
  /** 'min' for losses and error rates, 'max' for accuracies; default from the name. */
  comp?: 'min' | 'max';
  minDelta?: number;
}

/** fastai TrackerCallback: best value so far; new best when better by more than minDelta. */
export class Tracker {
  readonly monitor: string;
  readonly comp: 'min' | 'max';
  readonly minDelta: number;
  best: number;
  newBest = false;

  constructor(options: TrackerOptions = {}) {
    this.monitor = options.monitor ?? 'valid_loss';
    this.comp = options.comp ?? (/loss|error/.test(this.monitor) ? 'min' : 'max');
    this.minDelta = options.minDelta ?? 0;
    this.best = this.comp === 'min' ? Infinity : -Infinity;
  }

  reset(): void {
    this.best = this.comp === 'min' ? Infinity : -Infinity;
  }

  update(record: EpochRecord): boolean {
    const v = monitored(record, this.monitor);
    // fastai: comp(val − min_delta, best) with min_delta negated for np.less.
    this.newBest = this.comp === 'min' ? v + this.minDelta < this.best : v - this.minDelta > this.best;
    if (this.newBest) this.best = v;
    return this.newBest;
  }
}

/** fastai EarlyStoppingCallback(monitor='valid_loss', min_delta=0, patience=1). */
export class EarlyStopping implements Callback {
  readonly order = 55;
  private readonly tracker: Tracker;
  private wait = 0;
  stoppedAt: number | undefined;

  constructor(options: TrackerOptions & { patience?: number } = {}, private readonly patience = options.patience ?? 1) {
    this.tracker = new Tracker(options);
  }

  beforeFit(): void {
    this.tracker.reset();
    this.wait = 0;
    this.stoppedAt = undefined;
  }

  afterEpoch(learn: CallbackContext): void {
    if (this.tracker.update(learn.lastRecord!)) this.wait = 0;
    else {
      this.wait += 1;
      if (this.wait >= this.patience) {
        this.stoppedAt = learn.epoch;
        throw new CancelFitException(`no improvement of ${this.tracker.monitor} since epoch ${learn.epoch - this.wait}: early stopping`);
      }
    }
  }
}

/**
 * fastai SaveModelCallback: after each epoch that improves the monitored value, hand the trained
 * model to `save` (the training stage exports it as an inference-ready model.onnx); at the end of
 * the fit, put the best weights back (fastai loads the best model in after_fit).
 */
export class SaveModel implements Callback {
  readonly order = 60;
  private readonly tracker: Tracker;
  private best: EngineSnapshot | undefined;
  bestEpoch: number | undefined;

  constructor(
    private readonly save: (model: Model, record: EpochRecord) => void | Promise<void>,
    options: TrackerOptions & { everyEpoch?: boolean; reloadBest?: boolean } = {},
    private readonly everyEpoch = options.everyEpoch ?? false,
    private readonly reloadBest = options.reloadBest ?? true,
  ) {
    this.tracker = new Tracker(options);
  }

  beforeFit(): void {
    this.tracker.reset();
    this.best = undefined;
    this.bestEpoch = undefined;
  }

  async afterEpoch(learn: CallbackContext): Promise<void> {
    const record = learn.lastRecord!;
    if (this.everyEpoch) return this.save(learn.trainedModel(), record);
    if (this.tracker.update(record)) {
      this.bestEpoch = record.epoch;
      if (this.reloadBest) this.best = learn.snapshot();
      await this.save(learn.trainedModel(), record);
    }
  }

  afterFit(learn: CallbackContext): void {
    if (this.reloadBest && this.best) learn.restore(this.best);
  }
}

/** fastai CSVLogger: one row per epoch (epoch, train_loss, valid_loss, metrics…, time). */
export class CSVLogger implements Callback {
  readonly order = 70;
  private wroteHeader = false;

  constructor(readonly path: string, private readonly append = false) {}

  beforeFit(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (!this.append) writeFileSync(this.path, '');
    this.wroteHeader = this.append;
  }

  afterEpoch(learn: CallbackContext): void {
    const r = learn.lastRecord!;
    const names = Object.keys(r.metrics);
    if (!this.wroteHeader) appendFileSync(this.path, `${['epoch', 'train_loss', 'valid_loss', ...names, 'time'].join(',')}\n`);
    this.wroteHeader = true;
    appendFileSync(this.path, `${[r.epoch, r.trainLoss, r.validLoss, ...names.map((n) => r.metrics[n]), r.seconds.toFixed(2)].join(',')}\n`);
  }
}

/**
 * fastai GradientClip(max_norm=1.0): torch clip_grad_norm_ before every optimizer step. The clipping
 * happens inside the compiled step graph, so this callback has no events: Learner.create reads its
 * maxNorm (the same as LearnerOptions.gradClip).
 */
export class GradientClip implements Callback {
  readonly order = 0;
  constructor(readonly maxNorm = 1) {}
}

/** Calls `fn` after every epoch (what LearnerOptions.onEpochEnd used to be). */
export function afterEpoch(fn: (record: EpochRecord, learn: CallbackContext) => void | Promise<void>, order = 80): Callback {
  return { order, afterEpoch: (learn) => fn(learn.lastRecord!, learn) };
}
