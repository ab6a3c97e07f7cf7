// The Learner: a model, data, an optimizer and a loss, with fastai's training API on top of the
// training engine: fit, fit_one_cycle, fine_tune, freeze/unfreeze, lr_find, callbacks, metrics and
// checkpoints. Schedules are evaluated per batch exactly as fastai's ParamScheduler does
// (position = batches done in this fit / batches in this fit), per parameter group.
import type { AdamHyper } from '@paddock/autograd';
import type { Model } from '@paddock/onnx';
import type { Device } from '@paddock/runtime';
import type { Tensor } from '@paddock/tensor';
import { CancelBatchException, CancelFitException, GradientClip, afterEpoch, type Callback, type CallbackContext, type CallbackEvent } from './callbacks.ts';
import { TrainingEngine, type EngineSnapshot } from './engine.ts';
import type { LossScalingOptions } from './loss-scale.ts';
import { suggest, type LrFindResult } from './lr-find.ts';
import { crossEntropySum, errorRate as errorRateMetric, type Metric } from './metrics.ts';
import { silentProgress, type ProgressSink } from './progress.ts';
import { Recorder, type EpochRecord, type RecorderState } from './recorder.ts';
import { lrRange, oneCycleGroups, schedExp, schedNo, slice, type GroupSchedule, type LrSpec, type OneCycleOptions } from './schedule.ts';

export interface Batch {
  images: Tensor<'float32'>;
  labels: Tensor<'int64'>;
}

/** Where batches come from (apps/augment in Paddock; anything that yields tensors in tests). */
export interface DataLoaders {
  batchSize: number;
  /** Full batches only (drop_last), shuffled and augmented for the given epoch (the epoch number fixes the order). */
  train(epoch: number): AsyncIterable<Batch>;
  trainBatches: number;
  valid(): AsyncIterable<Batch>;
  classes: number;
}

/** Parameter group of a parameter; groups are ordered body first, head last (fastai splitter). */
export type ParamGroups = (param: string) => string;

/** Paddock's own ResNets: the classifier (fc.*) is the head, everything else the body. */
export const resnetParamGroups: ParamGroups = (name) => (name.startsWith('fc.') ? 'head' : 'body');

export interface LearnerOptions {
  /** fastai: wd 0.01, mom 0.9, sqr_mom 0.99, eps 1e-5. */
  wd?: number;
  /** Adam β1 when no schedule sets it (fastai's Adam default 0.9). */
  mom?: number;
  sqrMom?: number;
  eps?: number;
  /** fastai default (wd_bn_bias=False): no weight decay on BatchNorm and bias parameters. */
  bnAndBiasWd?: boolean;
  /** fastai train_bn: BatchNorm parameters of frozen groups keep training. */
  trainBn?: boolean;
  /** Parameter groups (default resnetParamGroups); `groupOrder` gives their order (default: order of first appearance). */
  paramGroups?: ParamGroups;
  groupOrder?: string[];
  /** Default [error_rate]. */
  metrics?: Metric[];
  callbacks?: Callback[];
  /** Seed of the per-step Dropout masks (models with Dropout; the fastai head has two). */
  seed?: number;
  /** Clip the global gradient norm to this before each step (fastai GradientClip(max_norm); also set by a GradientClip in callbacks). */
  gradClip?: number;
  /** Dynamic loss scaling (torch GradScaler: 2^16, halve and skip on overflow, double after 2000 clean steps). */
  lossScaling?: boolean | LossScalingOptions;
  /** fastai to_fp16: float16 forward/backward on float32 master weights, with loss scaling unless lossScaling is false. */
  fp16?: boolean;
  device?: Device;
  threads?: number;
  progress?: ProgressSink;
  onNotice?: (message: string) => void;
  /** Called after each epoch (e.g. to checkpoint or publish progress). */
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
}

export interface FineTuneOptions {
  baseLr?: number;
  freezeEpochs?: number;
  lrMult?: number;
  pctStart?: number;
  div?: number;
}

export interface LrFindOptions {
  startLr?: number;
  endLr?: number;
  numIt?: number;
  stopDiv?: boolean;
}

/** One step of a training plan (what a recipe's `schedule` lists). */
export type PlanStep =
  | { fit: { epochs: number; lr?: LrSpec } }
  | { fitOneCycle: { epochs: number; lrMax?: LrSpec } & OneCycleOptions }
  | { fineTune: { epochs: number } & FineTuneOptions }
  | { freeze: true }
  | { unfreeze: true }
  | { lrFind: LrFindOptions };

/** Where a plan is: the step to run next and how many of its epochs are already done. */
export interface PlanPosition {
  step: number;
  epoch: number;
}

export interface LearnerCheckpoint {
  format: 'paddock.checkpoint/1';
  engine: EngineSnapshot;
  recorder: RecorderState;
  frozenTo: number;
  epochsDone: number;
  mom: number;
  position: PlanPosition;
}

export interface PlanResult {
  records: EpochRecord[];
  lrFinds: LrFindResult[];
}

export const fineTuneDefaults = { baseLr: 2e-3, freezeEpochs: 1, lrMult: 100, pctStart: 0.3, div: 5 };

/**
 * fastai fine_tune as plan steps: freeze → fit_one_cycle(freeze_epochs, slice(base_lr),
 * pct_start=0.99) → base_lr /= 2 → unfreeze → fit_one_cycle(epochs, slice(base_lr/lr_mult,
 * base_lr), pct_start, div).
 */
export function fineTuneSteps(epochs: number, options: FineTuneOptions = {}): PlanStep[] {
  const o = { ...fineTuneDefaults, ...options };
  const steps: PlanStep[] = [{ freeze: true }];
  if (o.freezeEpochs > 0) steps.push({ fitOneCycle: { epochs: o.freezeEpochs, lrMax: slice(o.baseLr), pctStart: 0.99 } });
  const base = o.baseLr / 2;
  steps.push({ unfreeze: true }, { fitOneCycle: { epochs, lrMax: slice(base / o.lrMult, base), pctStart: o.pctStart, div: o.div } });
  return steps;
}

/** Plan steps with fineTune expanded (positions in checkpoints index this list). */
export function expandPlan(steps: PlanStep[]): PlanStep[] {
  return steps.flatMap((s) => ('fineTune' in s ? fineTuneSteps(s.fineTune.epochs, s.fineTune) : [s]));
}

/** The clipping norm from the option or a GradientClip callback (it is compiled into the step graph). */
function gradClipOf(options: LearnerOptions): number | undefined {
  const fromCallbacks = [...new Set((options.callbacks ?? []).filter((c): c is GradientClip => c instanceof GradientClip).map((c) => c.maxNorm))];
  const all = [...new Set([...(options.gradClip === undefined ? [] : [options.gradClip]), ...fromCallbacks])];
  if (all.length > 1) throw new RangeError(`gradient clipping is set twice with different max norms (${all.join(', ')}); keep one`);
  if (all.length && !(all[0] > 0)) throw new RangeError(`gradient clipping: max_norm must be positive, got ${all[0]}`);
  return all[0];
}

const isCancel = (e: unknown, kind: typeof CancelBatchException | typeof CancelFitException) => e instanceof kind;

export class Learner implements CallbackContext {
  readonly recorder = new Recorder();
  readonly metrics: Metric[];
  /** Parameter groups in order (body …, head). */
  readonly groups: string[];
  readonly callbacks: Callback[];
  private epochsDone = 0;
  private frozenTo = 0;
  /** Adam β1 now (the last value a schedule set, as fastai's optimizer hypers keep it). */
  mom: number;
  epoch = 0;
  nEpoch = 0;
  iter = 0;
  loss = NaN;
  /** Global gradient norm of the last batch, before clipping (with gradClip or lossScaling). */
  gradNorm: number | undefined;
  lastRecord: EpochRecord | undefined;
  position: PlanPosition = { step: 0, epoch: 0 };

  private constructor(
    readonly engine: TrainingEngine,
    readonly dls: DataLoaders,
    private readonly options: Required<Pick<LearnerOptions, 'wd' | 'sqrMom' | 'eps' | 'trainBn'>> & LearnerOptions,
    private readonly groupOf: ParamGroups,
    private readonly isBatchNorm: Set<string>,
    groups: string[],
  ) {
    this.metrics = options.metrics ?? [errorRateMetric];
    this.groups = groups;
    this.mom = options.mom ?? 0.9;
    this.callbacks = [...(options.callbacks ?? [])];
    if (options.onEpochEnd) this.callbacks.push(afterEpoch(options.onEpochEnd));
  }

  static async create(model: Model, dls: DataLoaders, options: LearnerOptions = {}): Promise<Learner> {
    const opts = { wd: 0.01, sqrMom: 0.99, eps: 1e-5, trainBn: true, ...options };
    const shapes = new Map([...model.graph.initializers].map(([k, t]) => [k, t.shape.length]));
    const bn = new Set<string>();
    for (const n of model.graph.nodes) if (n.opType === 'BatchNormalization') n.inputs.slice(1, 3).forEach((p) => bn.add(p));
    const groupOf = opts.paramGroups ?? resnetParamGroups;
    // Hyper groups are (parameter group × kind): kind 'bn' (BatchNorm, trains while frozen),
    // 'no_wd' (biases) or 'wd'; Adam's step count is kept per hyper group, so a group that was
    // frozen starts its bias correction at 1 when it first trains, as fastai's per-parameter step.
    const kind = (p: string) => (bn.has(p) ? 'bn' : (shapes.get(p) ?? 1) === 1 || /\.bias$/.test(p) ? 'no_wd' : 'wd');
    const engine = await TrainingEngine.create(model, {
      gradClip: gradClipOf(opts),
      lossScaling: opts.lossScaling,
      fp16: opts.fp16,
      batchSize: dls.batchSize,
      device: opts.device,
      threads: opts.threads,
      onNotice: opts.onNotice,
      seed: opts.seed,
      hyperGroup: (p) => `${groupOf(p)}.${kind(p)}`,
    });
    const seen = [...new Set(engine.parameterNames.map(groupOf))];
    const groups = opts.groupOrder ?? seen;
    for (const g of seen) if (!groups.includes(g)) throw new RangeError(`parameter group "${g}" is missing from groupOrder (${groups.join(', ')})`);
    return new Learner(engine, dls, opts, groupOf, bn, groups);
  }

  get smoothLoss(): number {
    return this.recorder.smoothLoss;
  }

  /** Epochs trained so far over every fit (it fixes the next epoch's data order). */
  get totalEpochs(): number {
    return this.epochsDone;
  }

  get frozenGroups(): number {
    return this.frozenTo;
  }

  /** fastai freeze_to(n): the first n groups (n < 0: all but the last −n) get no gradient and no update, except BatchNorm parameters (train_bn). */
  async freezeTo(n: number): Promise<void> {
    const k = Math.max(0, n < 0 ? this.groups.length + n : Math.min(n, this.groups.length));
    this.frozenTo = k;
    if (k === 0) return this.engine.setFrozen('', undefined);
    const frozenGroups = new Set(this.groups.slice(0, k));
    await this.engine.setFrozen(`frozen:${k}`, (p) => frozenGroups.has(this.groupOf(p)) && !(this.options.trainBn && this.isBatchNorm.has(p)));
  }

  /** fastai freeze(): only the last group trains (and every BatchNorm layer). */
  freeze(): Promise<void> {
    return this.freezeTo(-1);
  }

  unfreeze(): Promise<void> {
    return this.freezeTo(0);
  }

  snapshot(): EngineSnapshot {
    return this.engine.snapshot();
  }

  restore(snapshot: EngineSnapshot): void {
    this.engine.restore(snapshot);
  }

  private hyper(lrs: number[], mom: number): (group: string) => AdamHyper {
    return (group) => {
      const dot = group.lastIndexOf('.');
      const index = this.groups.indexOf(group.slice(0, dot));
      const decays = group.slice(dot + 1) === 'wd' || this.options.bnAndBiasWd;
      return { lr: lrs[index], mom, sqrMom: this.options.sqrMom, eps: this.options.eps, wd: decays ? this.options.wd : 0 };
    };
  }

  private async event(name: CallbackEvent, extra: Callback[]): Promise<void> {
    const cbs = [...this.callbacks, ...extra].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    for (const cb of cbs) await cb[name]?.(this);
  }

  /** fastai fit(n, lr): constant learning rate(s); momentum stays where it is (Adam's default 0.9). */
  fit(epochs: number, lr: LrSpec = 1e-3, options: { startEpoch?: number; callbacks?: Callback[] } = {}): Promise<EpochRecord[]> {
    const lrs = lrRange(lr, this.groups.length);
    const mom = this.mom;
    return this.runFit(epochs, { lrs: () => lrs, mom: schedNo(mom) }, options);
  }

  /** fit_one_cycle(n, lr_max, div=25, div_final=1e5, pct_start=0.25, moms=(0.95, 0.85, 0.95)); lr_max a number, per-group numbers or a slice. */
  fitOneCycle(epochs: number, lrMax: LrSpec = 1e-3, schedule: OneCycleOptions = {}, options: { startEpoch?: number; callbacks?: Callback[] } = {}): Promise<EpochRecord[]> {
    return this.runFit(epochs, oneCycleGroups(lrRange(lrMax, this.groups.length), schedule), options);
  }

  /** fastai fine_tune(epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5). */
  async fineTune(epochs: number, options: FineTuneOptions = {}): Promise<EpochRecord[]> {
    return (await this.runPlan(fineTuneSteps(epochs, options))).records;
  }

  /**
   * Run plan steps in order, from `from` (a checkpoint's position) on. this.position tells an
   * afterEpoch callback where the plan is, so a checkpoint written there resumes exactly.
   */
  async runPlan(plan: PlanStep[], options: { from?: PlanPosition; onLrFind?: (result: LrFindResult, step: number) => void | Promise<void> } = {}): Promise<PlanResult> {
    const steps = expandPlan(plan);
    const from = options.from ?? { step: 0, epoch: 0 };
    const result: PlanResult = { records: [], lrFinds: [] };
    for (let i = from.step; i < steps.length; i++) {
      const s = steps[i];
      const startEpoch = i === from.step ? from.epoch : 0;
      this.position = { step: i, epoch: startEpoch };
      if ('freeze' in s) await this.freeze();
      else if ('unfreeze' in s) await this.unfreeze();
      else if ('lrFind' in s) {
        const r = await this.lrFind(s.lrFind);
        result.lrFinds.push(r);
        await options.onLrFind?.(r, i);
      } else if ('fit' in s) result.records.push(...(await this.fit(s.fit.epochs, s.fit.lr, { startEpoch })));
      else if ('fitOneCycle' in s) {
        const { epochs, lrMax, ...schedule } = s.fitOneCycle;
        result.records.push(...(await this.fitOneCycle(epochs, lrMax, schedule, { startEpoch })));
      }
    }
    this.position = { step: steps.length, epoch: 0 };
    return result;
  }

  private async runFit(nEpoch: number, schedule: GroupSchedule, options: { startEpoch?: number; callbacks?: Callback[] }): Promise<EpochRecord[]> {
    if (this.dls.trainBatches === 0) throw new RangeError(`fit: the training set has fewer items than one batch (${this.dls.batchSize}); lower the batch size`);
    const extra = options.callbacks ?? [];
    const startEpoch = options.startEpoch ?? 0;
    const progress = this.options.progress ?? silentProgress;
    const perEpoch = this.dls.trainBatches;
    const total = nEpoch * perEpoch;
    const records: EpochRecord[] = [];
    if (startEpoch >= nEpoch) return records;
    // A resumed fit keeps the restored smoothing state; a new fit restarts it (fastai before_fit).
    if (startEpoch === 0) this.recorder.resetSmoothing();
    this.nEpoch = nEpoch;
    progress.header(this.metrics.map((m) => m.name));
    try {
      await this.event('beforeFit', extra);
      for (let e = startEpoch; e < nEpoch; e++) {
        this.epoch = e;
        await this.event('beforeEpoch', extra);
        const start = performance.now();
        progress.epochStart(this.epochsDone, perEpoch);
        let i = 0;
        for await (const batch of this.dls.train(this.epochsDone)) {
          this.iter = i;
          const pos = (e * perEpoch + i) / total;
          try {
            await this.event('beforeBatch', extra);
            const lrs = schedule.lrs(pos);
            const mom = schedule.mom(pos);
            const { loss, gradNorm } = await this.engine.trainBatch(batch.images, batch.labels, this.hyper(lrs, mom));
            this.gradNorm = gradNorm;
            if (!Number.isFinite(loss)) throw new Error(`epoch ${this.epochsDone}, batch ${i}: the loss is ${loss}; lower the learning rate (now ${lrs.map((l) => l.toExponential(2)).join(', ')})`);
            this.loss = loss;
            this.mom = mom;
            progress.batch(i + 1, this.recorder.recordBatch(loss, lrs, mom));
          } catch (error) {
            if (!isCancel(error, CancelBatchException)) throw error;
            await this.event('afterCancelBatch', extra);
          }
          await this.event('afterBatch', extra);
          i += 1;
        }
        const trainSeconds = (performance.now() - start) / 1000;
        const valid = await this.validate();
        const record: EpochRecord = {
          epoch: this.epochsDone,
          trainLoss: this.recorder.smoothLoss,
          validLoss: valid.loss,
          errorRate: valid.errorRate,
          accuracy: 1 - valid.errorRate,
          metrics: valid.metrics,
          seconds: (performance.now() - start) / 1000,
          imagesPerSecond: (i * this.dls.batchSize) / trainSeconds,
        };
        this.recorder.recordEpoch(record);
        records.push(record);
        this.lastRecord = record;
        progress.epochEnd(record);
        this.epochsDone += 1;
        this.position = { ...this.position, epoch: e + 1 };
        await this.event('afterEpoch', extra);
      }
    } catch (error) {
      if (!isCancel(error, CancelFitException)) throw error;
      await this.event('afterCancelFit', extra);
    }
    await this.event('afterFit', extra);
    return records;
  }

  /**
   * fastai lr_find(start_lr=1e-7, end_lr=10, num_it=100, stop_div=True): lr = start·(end/start)^(i/num_it)
   * for batch i (every group alike), momentum as it stands; stops after num_it batches (raised to
   * 6), or when the smoothed loss exceeds 4× its best — or is not finite (fastai would go on with
   * NaN weights). Weights, optimizer state, Adam step counts and BN statistics are put back
   * afterwards bit for bit, and the Learner's recorder is untouched.
   */
  async lrFind(options: LrFindOptions = {}): Promise<LrFindResult> {
    const { startLr = 1e-7, endLr = 10, numIt: asked = 100, stopDiv = true } = options;
    const numIt = Math.max(6, asked);
    if (this.dls.trainBatches === 0) throw new RangeError(`lrFind: the training set has fewer items than one batch (${this.dls.batchSize})`);
    const saved = this.engine.snapshot();
    const lr = schedExp(startLr, endLr);
    const rec = new Recorder();
    const mom = this.mom;
    let best = Infinity;
    let diverged = false;
    let it = 0;
    try {
      const epochs = Math.floor(numIt / this.dls.trainBatches) + 1;
      sweep: for (let e = 0; e < epochs; e++) {
        for await (const batch of this.dls.train(this.epochsDone + e)) {
          const rate = lr(it / numIt);
          const { loss } = await this.engine.trainBatch(batch.images, batch.labels, this.hyper(Array(this.groups.length).fill(rate), mom));
          const smooth = rec.recordBatch(loss, rate, mom);
          it += 1;
          if (smooth < best) best = smooth;
          if (stopDiv && (smooth > 4 * best || !Number.isFinite(smooth))) {
            diverged = true;
            break sweep;
          }
          if (it >= numIt) break sweep;
        }
      }
    } finally {
      this.engine.restore(saved);
    }
    return { lrs: [...rec.lrs], losses: [...rec.smoothLosses], rawLosses: [...rec.losses], numIt, diverged, suggestions: suggest(rec.lrs, rec.smoothLosses, asked) };
  }

  /** Mean loss and metrics on the validation set, eval mode. */
  async validate(): Promise<{ loss: number; errorRate: number; items: number; metrics: Record<string, number> }> {
    const classes = this.dls.classes;
    const logitParts: Float32Array[] = [];
    const labelParts: number[] = [];
    let loss = 0;
    for await (const batch of this.dls.valid()) {
      const logits = await this.engine.predict(batch.images);
      loss += crossEntropySum(logits, batch.labels.data, classes);
      logitParts.push(logits);
      batch.labels.data.forEach((y) => labelParts.push(Number(y)));
    }
    const items = labelParts.length;
    if (!items) return { loss: NaN, errorRate: NaN, items, metrics: Object.fromEntries(this.metrics.map((m) => [m.name, NaN])) };
    const logits = new Float32Array(items * classes);
    let at = 0;
    for (const part of logitParts) {
      logits.set(part, at);
      at += part.length;
    }
    const labels = Int32Array.from(labelParts);
    const metrics = Object.fromEntries(this.metrics.map((m) => [m.name, m.fn(logits, labels, classes)]));
    return { loss: loss / items, errorRate: errorRateMetric.fn(logits, labels, classes), items, metrics };
  }

  trainedModel(): Model {
    return this.engine.trainedModel();
  }

  /** Everything a resumed run needs: weights, optimizer state, BN stats, Adam steps, schedule position, recorder. */
  checkpoint(): LearnerCheckpoint {
    return { format: 'paddock.checkpoint/1', engine: this.engine.snapshot(), recorder: this.recorder.state(), frozenTo: this.frozenTo, epochsDone: this.epochsDone, mom: this.mom, position: { ...this.position } };
  }

  async loadCheckpoint(c: LearnerCheckpoint): Promise<void> {
    await this.freezeTo(c.frozenTo);
    this.engine.restore(c.engine);
    this.recorder.restore(c.recorder);
    this.epochsDone = c.epochsDone;
    this.mom = c.mom;
    this.position = { ...c.position };
    this.lastRecord = c.recorder.epochs[c.recorder.epochs.length - 1];
  }
}
