// Runs compiled training steps: one ORT session for the training-step graph, one for eval-mode
// forward passes, and the weights, optimizer state and BatchNorm statistics carried between steps.
import * as ort from 'onnxruntime-node';
import { buildTrainStep, adamwFeeds, hyperInputs, type AdamHyper, type TrainStep } from '@paddock/autograd';
import { GraphBuilder, encodeModel, type Model } from '@paddock/onnx';
import { createSession, type Device } from '@paddock/runtime';
import { tensor, type Tensor } from '@paddock/tensor';

export interface EngineOptions {
  batchSize: number;
  device?: Device;
  threads?: number;
  hyperGroup?: (param: string) => string;
  onNotice?: (message: string) => void;
}

export class TrainingEngine {
  /** Current values of every parameter, running statistic and optimizer state, by graph input name. */
  private readonly values = new Map<string, ort.Tensor>();
  private steps = 0;

  private constructor(
    readonly forward: Model,
    readonly step: TrainStep,
    private readonly trainSession: ort.InferenceSession,
    private readonly evalSession: ort.InferenceSession,
    readonly device: 'cpu' | 'cuda',
  ) {
    for (const p of step.parameters) {
      this.values.set(p.name, toOrt(p.value));
      for (const s of p.states) this.values.set(s.input, new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]));
    }
    for (const s of step.runningStats) this.values.set(s.input, toOrt(s.value));
    for (const f of step.frozen) this.values.set(f.name, toOrt(f.value));
  }

  static async create(forward: Model, options: EngineOptions): Promise<TrainingEngine> {
    const step = buildTrainStep(forward, { batchSize: options.batchSize, optimizer: 'adamw', hyperGroup: options.hyperGroup });
    const train = await createSession(encodeModel(step.model), { device: options.device, threads: options.threads, onNotice: options.onNotice });
    const evalModel = withWeightsAsInputs(forward, [...step.parameters.map((p) => p.name), ...step.frozen.map((f) => f.name), ...step.runningStats.map((s) => s.input)]);
    const evaluation = await createSession(encodeModel(evalModel), { device: train.device, threads: options.threads });
    return new TrainingEngine(forward, step, train.session, evaluation.session, train.device);
  }

  get hyperGroups(): string[] {
    return [...this.step.hyperGroups.keys()];
  }

  get stepCount(): number {
    return this.steps;
  }

  /** One optimizer step; returns the batch loss. */
  async trainBatch(images: Tensor<'float32'>, labels: Tensor<'int64'>, hyper: (group: string) => AdamHyper): Promise<{ loss: number; logits: Float32Array }> {
    this.steps += 1;
    const feeds: Record<string, ort.Tensor> = { [this.step.input]: toOrt(images), [this.step.labels]: toOrt(labels) };
    for (const [name, value] of this.values) feeds[name] = value;
    for (const [group, inputs] of this.step.hyperGroups) {
      const values = adamwFeeds(hyper(group), this.steps);
      inputs.forEach((input, i) => (feeds[input] = new ort.Tensor('float32', Float32Array.of(values[i]), [])));
    }
    const out = await this.trainSession.run(feeds);
    for (const p of this.step.parameters) {
      this.values.set(p.name, out[p.output]);
      for (const s of p.states) this.values.set(s.input, out[s.output]);
    }
    for (const s of this.step.runningStats) this.values.set(s.input, out[s.output]);
    return { loss: (out[this.step.loss].data as Float32Array)[0], logits: out[this.step.logits].data as Float32Array };
  }

  /** Eval-mode logits (running statistics, no update) for a batch of any size. */
  async predict(images: Tensor<'float32'>): Promise<Float32Array> {
    const feeds: Record<string, ort.Tensor> = { [this.step.input]: toOrt(images) };
    for (const name of this.evalSession.inputNames) if (name !== this.step.input) feeds[name] = this.values.get(name)!;
    const out = await this.evalSession.run(feeds);
    return out[this.evalSession.outputNames[0]].data as Float32Array;
  }

  /** The forward model with the current weights and running statistics as initializers. */
  trainedModel(): Model {
    const initializers = new Map(this.forward.graph.initializers);
    for (const [name] of initializers) {
      const v = this.values.get(name);
      if (v) initializers.set(name, tensor('float32', v.dims as number[], v.data as Float32Array));
    }
    return { ...this.forward, graph: { ...this.forward.graph, initializers } };
  }

  /** Every tensor the engine carries (for checkpoints). */
  state(): Map<string, Tensor> {
    return new Map([...this.values].map(([k, v]) => [k, tensor('float32', v.dims as number[], v.data as Float32Array)]));
  }

  async release(): Promise<void> {
    await this.trainSession.release();
    await this.evalSession.release();
  }
}

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape as number[]);
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
