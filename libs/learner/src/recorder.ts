// The Recorder: every batch's loss and smoothed loss, learning rates (per group) and momenta, and
// the per-epoch table (train_loss, valid_loss, metrics, time) fastai prints. It keeps the history of
// every fit of a Learner (fastai resets it per fit); the loss smoothing restarts at each fit as
// fastai's does.
import { linePlot, type LinePlotPicture } from '@paddock/report';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validLoss: number;
  errorRate: number;
  accuracy: number;
  /** Every metric of the Learner by name (error_rate, accuracy, top_5_accuracy, user metrics). */
  metrics: Record<string, number>;
  seconds: number;
  imagesPerSecond: number;
}

export interface RecorderState {
  losses: number[];
  smoothLosses: number[];
  lrs: number[];
  groupLrs: number[][];
  moms: number[];
  epochs: EpochRecord[];
  /** Batch index (into losses) at the end of each epoch. */
  epochEnds: number[];
  average: number;
  count: number;
}

export class Recorder {
  readonly losses: number[] = [];
  readonly smoothLosses: number[] = [];
  /** The last group's lr per batch (fastai records hypers[-1]['lr']). */
  readonly lrs: number[] = [];
  /** Every group's lr per batch. */
  readonly groupLrs: number[][] = [];
  readonly moms: number[] = [];
  readonly epochs: EpochRecord[] = [];
  readonly epochEnds: number[] = [];
  private average = 0;
  private count = 0;

  constructor(private readonly beta = 0.98) {}

  /** Start of a fit: fastai's AvgSmoothLoss is reset in before_fit. */
  resetSmoothing(): void {
    this.average = 0;
    this.count = 0;
  }

  /** fastai's AvgSmoothLoss: debiased exponential moving average. */
  recordBatch(loss: number, lr: number | number[], mom: number): number {
    this.count += 1;
    this.average = this.beta * this.average + (1 - this.beta) * loss;
    const smooth = this.average / (1 - this.beta ** this.count);
    const lrs = typeof lr === 'number' ? [lr] : lr;
    this.losses.push(loss);
    this.smoothLosses.push(smooth);
    this.lrs.push(lrs[lrs.length - 1]);
    this.groupLrs.push([...lrs]);
    this.moms.push(mom);
    return smooth;
  }

  recordEpoch(record: EpochRecord): void {
    this.epochs.push(record);
    this.epochEnds.push(this.losses.length);
  }

  get smoothLoss(): number {
    return this.smoothLosses[this.smoothLosses.length - 1] ?? NaN;
  }

  state(): RecorderState {
    return {
      losses: [...this.losses], smoothLosses: [...this.smoothLosses], lrs: [...this.lrs], groupLrs: this.groupLrs.map((g) => [...g]), moms: [...this.moms],
      epochs: this.epochs.map((e) => ({ ...e, metrics: { ...e.metrics } })), epochEnds: [...this.epochEnds], average: this.average, count: this.count,
    };
  }

  restore(s: RecorderState): void {
    for (const [mine, theirs] of [[this.losses, s.losses], [this.smoothLosses, s.smoothLosses], [this.lrs, s.lrs], [this.moms, s.moms], [this.epochEnds, s.epochEnds]] as const) mine.splice(0, mine.length, ...theirs);
    this.groupLrs.splice(0, this.groupLrs.length, ...s.groupLrs);
    this.epochs.splice(0, this.epochs.length, ...s.epochs);
    this.average = s.average;
    this.count = s.count;
  }

  /** fastai plot_loss: train loss per batch, valid loss at the end of each epoch (x = batches). */
  async plotLoss(options: { skipStart?: number; withValid?: boolean } = {}): Promise<LinePlotPicture> {
    const skip = Math.min(options.skipStart ?? 5, Math.max(0, this.losses.length - 1));
    const x = this.losses.map((_, i) => i + 1).slice(skip);
    const series = [{ name: 'train', x, y: this.losses.slice(skip) }];
    if (options.withValid ?? true) series.push({ name: 'valid', x: this.epochEnds, y: this.epochs.map((e) => e.validLoss) });
    return linePlot(series, { title: 'Loss', xLabel: 'batches', yLabel: 'loss' });
  }
}
