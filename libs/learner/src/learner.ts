// The Learner: a model, data, an optimizer and a loss, with fastai's training API on top of the
// training engine. fitOneCycle schedules lr and momentum per batch exactly as fastai's
// ParamScheduler does (position = batches done / total batches).
import type { AdamHyper } from '@paddock/autograd';
import type { Model } from '@paddock/onnx';
import type { Device } from '@paddock/runtime';
import type { Tensor } from '@paddock/tensor';
import { TrainingEngine } from './engine.ts';
import { argmaxRows, crossEntropySum } from './metrics.ts';
import { silentProgress, type ProgressSink } from './progress.ts';
import { Recorder, type EpochRecord } from './recorder.ts';
import { oneCycle, type OneCycleOptions } from './schedule.ts';

export interface Batch {
  images: Tensor<'float32'>;
  labels: Tensor<'int64'>;
}

/** Where batches come from (apps/augment in Paddock; anything that yields tensors in tests). */
export interface DataLoaders {
  batchSize: number;
  /** Full batches only (drop_last), shuffled and augmented for the given epoch. */
  train(epoch: number): AsyncIterable<Batch>;
  trainBatches: number;
  valid(): AsyncIterable<Batch>;
  classes: number;
}

export interface LearnerOptions {
  /** fastai: wd 0.01, mom 0.9, sqr_mom 0.99, eps 1e-5. */
  wd?: number;
  sqrMom?: number;
  eps?: number;
  /** fastai default: no weight decay on BatchNorm and bias parameters. */
  bnAndBiasWd?: boolean;
  device?: Device;
  threads?: number;
  progress?: ProgressSink;
  onNotice?: (message: string) => void;
  /** Called after each epoch (e.g. to checkpoint or publish progress). */
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
}

/** BatchNorm weights/biases and every bias are rank-1 tensors in Paddock's and torch's models. */
function isBnOrBias(name: string, rank: number): boolean {
  return rank === 1 || /\.bias$|\.bn\./.test(name);
}

export class Learner {
  readonly recorder = new Recorder();
  private epochsDone = 0;

  private constructor(
    readonly engine: TrainingEngine,
    readonly dls: DataLoaders,
    private readonly options: Required<Pick<LearnerOptions, 'wd' | 'sqrMom' | 'eps'>> & LearnerOptions,
  ) {}

  static async create(model: Model, dls: DataLoaders, options: LearnerOptions = {}): Promise<Learner> {
    const opts = { wd: 0.01, sqrMom: 0.99, eps: 1e-5, ...options };
    const shapes = new Map([...model.graph.initializers].map(([k, t]) => [k, t.shape.length]));
    const engine = await TrainingEngine.create(model, {
      batchSize: dls.batchSize,
      device: opts.device,
      threads: opts.threads,
      onNotice: opts.onNotice,
      hyperGroup: (p) => (!opts.bnAndBiasWd && isBnOrBias(p, shapes.get(p) ?? 1) ? 'no_wd' : 'wd'),
    });
    return new Learner(engine, dls, opts);
  }

  /** fit_one_cycle(n, lr_max, div=25, div_final=1e5, pct_start=0.25, moms=(0.95, 0.85, 0.95)). */
  async fitOneCycle(epochs: number, lrMax = 1e-3, schedule: OneCycleOptions = {}): Promise<EpochRecord[]> {
    const { lr, mom } = oneCycle(lrMax, schedule);
    const progress = this.options.progress ?? silentProgress;
    const total = epochs * this.dls.trainBatches;
    if (this.dls.trainBatches === 0) throw new RangeError(`fitOneCycle: the training set has fewer items than one batch (${this.dls.batchSize}); lower the batch size`);
    progress.header();
    const records: EpochRecord[] = [];
    let done = 0;
    for (let e = 0; e < epochs; e++) {
      const epoch = this.epochsDone;
      const start = performance.now();
      progress.epochStart(epoch, this.dls.trainBatches);
      let batches = 0;
      for await (const batch of this.dls.train(epoch)) {
        const pos = done / total;
        const h: AdamHyper = { lr: lr(pos), mom: mom(pos), sqrMom: this.options.sqrMom, eps: this.options.eps, wd: this.options.wd };
        const { loss } = await this.engine.trainBatch(batch.images, batch.labels, (group) => (group === 'no_wd' ? { ...h, wd: 0 } : h));
        if (!Number.isFinite(loss)) throw new Error(`epoch ${epoch}, batch ${batches}: the loss is ${loss}; lower the learning rate (lr_max ${lrMax})`);
        const smooth = this.recorder.recordBatch(loss, h.lr, h.mom);
        done += 1;
        batches += 1;
        progress.batch(batches, smooth);
      }
      const trainSeconds = (performance.now() - start) / 1000;
      const valid = await this.validate();
      const record: EpochRecord = {
        epoch,
        trainLoss: this.recorder.smoothLoss,
        validLoss: valid.loss,
        errorRate: valid.errorRate,
        accuracy: 1 - valid.errorRate,
        seconds: (performance.now() - start) / 1000,
        imagesPerSecond: (batches * this.dls.batchSize) / trainSeconds,
      };
      this.recorder.epochs.push(record);
      records.push(record);
      progress.epochEnd(record);
      this.epochsDone += 1;
      await this.options.onEpochEnd?.(record);
    }
    return records;
  }

  /** Mean loss and error rate on the validation set, eval mode. */
  async validate(): Promise<{ loss: number; errorRate: number; items: number }> {
    let loss = 0;
    let wrong = 0;
    let items = 0;
    for await (const batch of this.dls.valid()) {
      const logits = await this.engine.predict(batch.images);
      const preds = argmaxRows(logits, this.dls.classes);
      loss += crossEntropySum(logits, batch.labels.data, this.dls.classes);
      batch.labels.data.forEach((y, i) => (wrong += Number(y) === preds[i] ? 0 : 1));
      items += preds.length;
    }
    return items ? { loss: loss / items, errorRate: wrong / items, items } : { loss: NaN, errorRate: NaN, items };
  }

  trainedModel(): Model {
    return this.engine.trainedModel();
  }
}
