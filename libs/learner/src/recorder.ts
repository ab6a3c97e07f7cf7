// The Recorder: every batch's loss and smoothed loss, learning rates and momenta, and the
// per-epoch table (train_loss, valid_loss, metrics, time) fastai prints.
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validLoss: number;
  errorRate: number;
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
}

export class Recorder {
  readonly losses: number[] = [];
  readonly smoothLosses: number[] = [];
  readonly lrs: number[] = [];
  readonly moms: number[] = [];
  readonly epochs: EpochRecord[] = [];
  private average = 0;
  private count = 0;

  constructor(private readonly beta = 0.98) {}

  /** fastai's AvgSmoothLoss: debiased exponential moving average. */
  recordBatch(loss: number, lr: number, mom: number): number {
    this.count += 1;
    this.average = this.beta * this.average + (1 - this.beta) * loss;
    const smooth = this.average / (1 - this.beta ** this.count);
    this.losses.push(loss);
    this.smoothLosses.push(smooth);
    this.lrs.push(lr);
    this.moms.push(mom);
    return smooth;
  }

  get smoothLoss(): number {
    return this.smoothLosses[this.smoothLosses.length - 1] ?? NaN;
  }
}
