// Runs compiled training steps: one ORT session per trainable state (all parameters, or frozen up
// to a parameter group), one eval-mode session, and the weights, optimizer state and BatchNorm
// statistics carried between steps and between those states.
import * as ort from 'onnxruntime-node';
import { buildTrainStep, adamwFeeds, dropoutMask, hyperInputs, type AdamHyper, type TrainStep, type TrainStepOptions } from '@paddock/autograd';
import { GraphBuilder, encodeModel, type Model } from '@paddock/onnx';
import { createSession, type Device } from '@paddock/runtime';
import { Random, tensor, type Tensor } from '@paddock/tensor';
import { DynamicLossScaler, type LossScalerState, type LossScalingOptions } from './loss-scale.ts';

export interface EngineOptions {
  batchSize: number;
  device?: Device;
  threads?: number;
  /** Hyper-parameter group of each parameter (its lr/wd/... come from the Learner per group). */
  hyperGroup?: (param: string) => string;
  /** Seed of the Dropout masks: drawn in JS per step from (seed, step), so a resumed run draws the same masks. */
  seed?: number;
  /** Clip the global L2 norm of the gradients to this before each update (torch clip_grad_norm_, fastai GradientClip). */
  gradClip?: number;
  /** Dynamic loss scaling (torch GradScaler): true for its defaults; an overflowing step is skipped. Default: on with fp16. */
  lossScaling?: boolean | LossScalingOptions;
  /** Mixed precision (fastai to_fp16): float16 forward/backward on float32 master weights; BatchNorm, loss and update in float32. */
  fp16?: boolean;
  onNotice?: (message: string) => void;
}

export interface BatchResult {
  loss: number;
  logits: Float32Array;
  /** Global gradient norm before clipping (with gradClip or lossScaling). */
  gradNorm?: number;
  /** The update was skipped: the gradients overflowed at the current loss scale. */
  skipped: boolean;
}

/** Everything needed to put the engine back exactly where it was (lr_find, checkpoints). */
export interface EngineSnapshot {
  tensors: Map<string, Tensor<'float32'>>;
  /** Optimizer steps taken by each hyper group (Adam's bias corrections count per group). */
  steps: Record<string, number>;
  /** Steps taken in all (it keys the Dropout masks). */
  stepCount?: number;
  /** Dynamic loss scale state, with lossScaling. */
  lossScaler?: LossScalerState;
}

interface Compiled {
  step: TrainStep;
  session: ort.InferenceSession;
}

export class TrainingEngine {
  /** Current values of every parameter, running statistic and optimizer state, by graph input name. */
  private readonly values = new Map<string, ort.Tensor>();
  /** A second buffer per carried value: ORT writes step t's new value into it (pre-allocated
   *  outputs), and it becomes the value while the old one becomes the next step's spare. */
  private readonly spare = new Map<string, ort.Tensor>();
  private readonly groupSteps = new Map<string, number>();
  private readonly compiled = new Map<string, Compiled>();
  private current: Compiled;
  private currentKey = '';
  private steps = 0;
  private readonly scaler: DynamicLossScaler | undefined;
  /** How many times a training graph was compiled (one per distinct frozen state). */
  compilations = 0;

  private constructor(
    readonly forward: Model,
    private readonly options: EngineOptions,
    first: Compiled,
    private readonly evalSession: ort.InferenceSession,
    readonly device: 'cpu' | 'cuda',
  ) {
    this.current = first;
    const scaling = lossScalingOf(options);
    this.scaler = scaling ? new DynamicLossScaler(scaling === true ? {} : scaling) : undefined;
    this.compiled.set('', first);
    this.compilations = 1;
    this.adopt(first.step);
  }

  static async create(forward: Model, options: EngineOptions): Promise<TrainingEngine> {
    const step = buildTrainStep(forward, stepOptions(options, undefined));
    const train = await createSession(encodeModel(step.model), { device: options.device, threads: options.threads, onNotice: options.onNotice });
    const evalModel = withWeightsAsInputs(forward, [...step.parameters.map((p) => p.name), ...step.frozen.map((f) => f.name), ...step.runningStats.map((s) => s.input)]);
    const evaluation = await createSession(encodeModel(evalModel), { device: train.device, threads: options.threads });
    if (options.fp16 && train.device === 'cpu') options.onNotice?.('fp16 on the CPU execution provider: ORT runs the float16 nodes through float32 casts and slow fallbacks (resnet-small, batch 32, 128²: ~60 s a step against ~1 s in float32); use CUDA for mixed precision');
    return new TrainingEngine(forward, { ...options, device: train.device }, { step, session: train.session }, evaluation.session, train.device);
  }

  /** Initial values for inputs this engine has not seen yet (a newly compiled state's optimizer state). */
  private adopt(step: TrainStep): void {
    const setIfMissing = (name: string, make: () => ort.Tensor) => this.values.has(name) || this.values.set(name, make());
    // Copies: the buffers are written in place later (the model's initializers must stay as they are).
    for (const p of step.parameters) {
      setIfMissing(p.name, () => toOrt(p.value, true));
      for (const s of p.states) setIfMissing(s.input, () => new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]));
    }
    for (const s of step.runningStats) setIfMissing(s.input, () => toOrt(s.value, true));
    for (const f of step.frozen) setIfMissing(f.name, () => toOrt(f.value));
  }

  /** Names of every trainable parameter (frozen or not) in graph order. */
  get parameterNames(): string[] {
    return [...this.current.step.parameters.map((p) => p.name), ...this.current.step.frozen.map((f) => f.name)];
  }

  /** Hyper groups with at least one parameter that trains in the current state. */
  get hyperGroups(): string[] {
    return [...this.current.step.hyperGroups.keys()];
  }

  get step(): TrainStep {
    return this.current.step;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** The loss scale the next step uses and how many steps overflow skipped (with lossScaling). */
  get lossScale(): LossScalerState | undefined {
    return this.scaler?.state();
  }

  /**
   * Select which parameters train. `key` names the state (e.g. "frozen:1"), so a state compiled
   * once is reused: switching freeze ↔ unfreeze never recompiles more than once per state.
   */
  async setFrozen(key: string, frozen: ((param: string) => boolean) | undefined): Promise<void> {
    if (key === this.currentKey) return;
    let c = this.compiled.get(key);
    if (!c) {
      const step = buildTrainStep(this.forward, stepOptions(this.options, frozen));
      const { session } = await createSession(encodeModel(step.model), { device: this.device, threads: this.options.threads });
      c = { step, session };
      this.compiled.set(key, c);
      this.compilations += 1;
      this.adopt(step);
    }
    this.current = c;
    this.currentKey = key;
  }

  /** One optimizer step; returns the batch loss. `hyper(group)` gives a hyper group's values; Adam's step t counts per group. */
  async trainBatch(images: Tensor<'float32'>, labels: Tensor<'int64'>, hyper: (group: string) => AdamHyper): Promise<BatchResult> {
    const step = this.current.step;
    this.steps += 1;
    const feeds: Record<string, ort.Tensor> = { [step.input]: toOrt(images), [step.labels]: toOrt(labels) };
    for (const name of this.current.session.inputNames) {
      const v = this.values.get(name);
      if (v) feeds[name] = v;
    }
    if (step.dropoutMasks.length) {
      const random = new Random(this.options.seed ?? 0).fork(`dropout.step${this.steps}`);
      for (const m of step.dropoutMasks) feeds[m.input] = toOrt(dropoutMask(m.shape, m.ratio, random.fork(m.input)));
    }
    const stepsBefore = new Map(this.groupSteps);
    for (const [group, inputs] of step.hyperGroups) {
      const t = (this.groupSteps.get(group) ?? 0) + 1;
      this.groupSteps.set(group, t);
      const values = adamwFeeds(hyper(group), t);
      inputs.forEach((input, i) => (feeds[input] = scalar(values[i])));
    }
    if (step.lossScale) feeds[step.lossScale] = scalar(this.scaler!.scale);
    // Weights, optimizer state and BatchNorm statistics go into the spare buffers; the rest ORT allocates.
    const carried = [...step.parameters.flatMap((p) => [{ input: p.name, output: p.output }, ...p.states]), ...step.runningStats];
    const fetches: Record<string, ort.Tensor | null> = Object.fromEntries(this.current.session.outputNames.map((name) => [name, null]));
    for (const { input, output } of carried) fetches[output] = this.spareFor(input);
    const out = await this.current.session.run(feeds, fetches);
    // The graph already kept weights and optimizer state on a skipped step; Adam's step count must not advance either.
    const skipped = step.finite !== undefined && !(out[step.finite].data as Uint8Array)[0];
    if (skipped) for (const group of step.hyperGroups.keys()) this.groupSteps.set(group, stepsBefore.get(group) ?? 0);
    this.scaler?.update(!skipped);
    for (const { input } of carried) {
      const old = this.values.get(input)!;
      this.values.set(input, this.spare.get(input)!);
      this.spare.set(input, old);
    }
    const gradNorm = step.gradNorm ? (out[step.gradNorm].data as Float32Array)[0] : undefined;
    return { loss: (out[step.loss].data as Float32Array)[0], logits: out[step.logits].data as Float32Array, gradNorm, skipped };
  }

  private spareFor(name: string): ort.Tensor {
    let t = this.spare.get(name);
    if (!t) {
      const v = this.values.get(name)!;
      t = new ort.Tensor('float32', new Float32Array(v.data.length), v.dims as number[]);
      this.spare.set(name, t);
    }
    return t;
  }

  /** Eval-mode logits (running statistics, no update) for a batch of any size. */
  async predict(images: Tensor<'float32'>): Promise<Float32Array> {
    const input = this.current.step.input;
    const feeds: Record<string, ort.Tensor> = { [input]: toOrt(images) };
    for (const name of this.evalSession.inputNames) if (name !== input) feeds[name] = this.values.get(name)!;
    const out = await this.evalSession.run(feeds);
    return out[this.evalSession.outputNames[0]].data as Float32Array;
  }

  /** The forward model with the current weights and running statistics as initializers. */
  trainedModel(): Model {
    const initializers = new Map(this.forward.graph.initializers);
    for (const [name] of initializers) {
      const v = this.values.get(name);
      if (v) initializers.set(name, tensor('float32', v.dims as number[], (v.data as Float32Array).slice()));
    }
    return { ...this.forward, graph: { ...this.forward.graph, initializers } };
  }

  /** Every tensor the engine carries, copied (weights, optimizer state, BN statistics). */
  state(): Map<string, Tensor<'float32'>> {
    return new Map([...this.values].map(([k, v]) => [k, tensor('float32', v.dims as number[], (v.data as Float32Array).slice())]));
  }

  snapshot(): EngineSnapshot {
    return { tensors: this.state(), steps: Object.fromEntries(this.groupSteps), stepCount: this.steps, lossScaler: this.scaler?.state() };
  }

  /** Put back a snapshot; every tensor must match a known input's shape. */
  restore(snapshot: EngineSnapshot): void {
    for (const [name, t] of snapshot.tensors) {
      const have = this.values.get(name);
      if (have && have.data.length !== t.data.length) throw new RangeError(`restore: "${name}" has ${t.data.length} values, the model has ${have.data.length}; the checkpoint is from another model`);
      this.values.set(name, new ort.Tensor('float32', Float32Array.from(t.data as Float32Array), t.shape as number[]));
    }
    this.groupSteps.clear();
    for (const [g, n] of Object.entries(snapshot.steps)) this.groupSteps.set(g, n);
    this.steps = snapshot.stepCount ?? Object.values(snapshot.steps).reduce((a, b) => Math.max(a, b), 0);
    if (this.scaler && snapshot.lossScaler) this.scaler.restore(snapshot.lossScaler);
  }

  async release(): Promise<void> {
    for (const c of this.compiled.values()) await c.session.release();
    await this.evalSession.release();
  }
}

function stepOptions(options: EngineOptions, frozen: ((param: string) => boolean) | undefined): TrainStepOptions {
  return { batchSize: options.batchSize, optimizer: 'adamw', hyperGroup: options.hyperGroup, frozen, dropout: 'input', gradClip: options.gradClip, lossScaling: Boolean(lossScalingOf(options)), fp16: options.fp16 };
}

const lossScalingOf = (options: EngineOptions) => options.lossScaling ?? options.fp16 ?? false;

const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);

function toOrt(t: Tensor, copy = false): ort.Tensor {
  return new ort.Tensor(t.dtype as 'float32', (copy ? t.data.slice() : t.data) as Float32Array, t.shape as number[]);
}

/** The same graph with the named initializers turned into graph inputs (fed every call). */
export function withWeightsAsInputs(model: Model, names: string[]): Model {
  const b = GraphBuilder.from({ ...model.graph, initializers: new Map(model.graph.initializers) });
  for (const name of names) {
    const t = b.initializers.get(name);
    if (!t) continue;
    b.initializers.delete(name);
    b.inputs.push({ name, dtype: 'float32', shape: [...t.shape] });
  }
  return { ...model, graph: b.graph() };
}

export { hyperInputs };
