// One training step as ONE graph: forward in training form, mean softmax cross-entropy, the
// backward pass, BatchNorm running-stat updates and the optimizer update. Inputs: batch, labels,
// weights, optimizer state, hyper-parameters; outputs: loss, logits, new weights and state.
import { GraphBuilder, foldConstants, inferShapes, opsetVersion, toOpset17, type Model } from '@paddock/onnx';
import type { Node } from '@paddock/onnx';
import type { Tensor } from '@paddock/tensor';
import { BATCHNORM_TRAIN, reductionAxes } from './batchnorm.ts';
import { differentiate } from './differentiate.ts';
import { scaleGradients } from './grad-scaling.ts';
import { toMixedPrecision } from './mixed-precision.ts';
import { emitUpdate, hyperInputs, stateNames, type OptimizerKind } from './optimizers.ts';
import { lower, toTrainingForm } from './training-form.ts';

export interface TrainStepOptions {
  batchSize: number;
  /** 'none': gradients only (outputs grad.<param>), for checks against fixtures. */
  optimizer: OptimizerKind | 'none';
  /** Hyper-parameter group of each trainable parameter (default: one group, "all"). */
  hyperGroup?: (param: string) => string;
  /** Parameters that get no gradient and no update (frozen); BatchNorm ones usually stay trainable. */
  frozen?: (param: string) => boolean;
  /** Also output the gradients (grad.<param>) next to the update: as the optimizer sees them (unscaled, clipped). */
  exposeGradients?: boolean;
  /** Also output d loss / d input (grad.input; times the loss scale under lossScaling). */
  inputGradient?: boolean;
  source?: string;
  /** Training-mode Dropout masks: drawn in the graph (default) or fed as inputs (see TrainStep.dropoutMasks). */
  dropout?: 'graph' | 'input';
  /** Seed of in-graph dropout masks. */
  seed?: number;
  /** Clip the global L2 norm of the trainable gradients to this before the update (torch
   *  clip_grad_norm_, fastai GradientClip); the norm before clipping is output (TrainStep.gradNorm). */
  gradClip?: number;
  /** Dynamic loss scaling: a scalar input (TrainStep.lossScale) multiplies the loss before backward,
   *  the gradients are divided by it again, and weights and optimizer state are only updated when
   *  every gradient is finite (output TrainStep.finite); BatchNorm statistics update regardless, as in torch. */
  lossScaling?: boolean;
  /** Mixed precision: forward and backward in float16 on float32 master weights (cast down at the
   *  start of the step); BatchNorm, softmax, the loss, their gradients and the update stay float32.
   *  Use with lossScaling (float16 gradients underflow without it). */
  fp16?: boolean;
}

/** Under fp16, computed in float32 with their gradients (torch autocast's float32 ops and BatchNorm). */
const float32Ops = new Set([BATCHNORM_TRAIN, 'SoftmaxCrossEntropyLoss', 'LayerNormalization', 'Softmax', 'LogSoftmax']);

export interface TrainStep {
  model: Model;
  /** Graph input names. */
  input: string;
  labels: string;
  loss: string;
  logits: string;
  /** Trainable parameters in graph order, with their initial values. */
  parameters: { name: string; value: Tensor; group: string; output: string; states: { input: string; output: string }[]; grad?: string }[];
  /** Frozen parameters: graph inputs that are fed but never updated. */
  frozen: { name: string; value: Tensor }[];
  /** BatchNorm running statistics: graph input → graph output. */
  runningStats: { input: string; output: string; value: Tensor }[];
  /** Hyper-parameter groups and the scalar inputs of each, in hyperInputs order. */
  hyperGroups: Map<string, string[]>;
  /** With dropout: 'input', the mask inputs to feed every step (dropoutMask() makes one). */
  dropoutMasks: { input: string; shape: number[]; ratio: number }[];
  gradInput?: string;
  /** With gradClip or lossScaling: the global L2 norm of the (unscaled) gradients, before clipping. */
  gradNorm?: string;
  /** With lossScaling: the scalar loss-scale input, and the bool output "all gradients finite". */
  lossScale?: string;
  finite?: string;
}

/** Inputs that are settings, not data (Clip bounds, shapes, axes, pads, exponents, ratios):
 *  an initializer read only there is a constant, never a weight. */
const settingInputs: Record<string, number[]> = {
  Clip: [1, 2],
  Reshape: [1],
  Expand: [1],
  Pad: [1, 2, 3],
  Slice: [1, 2, 3, 4],
  Split: [1],
  Squeeze: [1],
  Unsqueeze: [1],
  ReduceMean: [1],
  ReduceSum: [1],
  Pow: [1],
  Dropout: [1, 2],
  Tile: [1],
  Resize: [1, 2, 3],
};

/** Float initializers that are weights: everything but BatchNorm running stats, scalars and settings. */
export function trainableInitializers(model: Model): string[] {
  const stats = new Set<string>();
  for (const n of model.graph.nodes) if (n.opType === 'BatchNormalization') n.inputs.slice(3, 5).forEach((s) => stats.add(s));
  const asData = new Set<string>();
  const asSetting = new Set<string>();
  for (const n of model.graph.nodes) n.inputs.forEach((x, i) => ((settingInputs[n.opType] ?? []).includes(i) ? asSetting : asData).add(x));
  for (const x of asSetting) if (!asData.has(x)) stats.add(x);
  const aliases = model.graph.nodes.filter((n) => n.opType === 'Identity' && model.graph.initializers.has(n.inputs[0])).map((n) => n.outputs[0]);
  const names = [...new Set([...model.graph.initializers.keys(), ...aliases])];
  return names.filter((name) => {
    const t = model.graph.initializers.get(name) ?? model.graph.initializers.get(model.graph.nodes.find((n) => n.outputs[0] === name)!.inputs[0])!;
    return t.dtype === 'float32' && t.shape.length > 0 && !stats.has(name);
  });
}

export function buildTrainStep(forwardModel: Model, options: TrainStepOptions): TrainStep {
  const source = options.source ?? 'model';
  const original = forwardModel.graph;
  if (original.inputs.length !== 1) throw new Error(`${source}: a trainable model has exactly one input (the image batch); found ${original.inputs.map((i) => i.name).join(', ')}`);
  const inputInfo = original.inputs[0];
  const logits = original.outputs[0].name;
  const concreteInput = inputInfo.shape.map((d, i) => (i === 0 ? options.batchSize : (d as number)));
  inputInfo.shape.forEach((d, i) => {
    if (i > 0 && typeof d !== 'number') throw new Error(`${source}: input "${inputInfo.name}" has a symbolic dimension "${d}" at axis ${i}; only the batch may be dynamic`);
  });
  // The batch size is fixed from here on: exporters' Shape/Gather/Concat sub-graphs become constants.
  // Opset 18–20 forms (axes inputs, Gelu, ...) are rewritten to the opset-17 ones the step uses.
  const concrete = { ...original, inputs: [{ ...inputInfo, shape: concreteInput }] };
  const graph = foldConstants(toOpset17(concrete, opsetVersion(forwardModel) ?? 17, {}, source), {}, source);

  const b = GraphBuilder.from({ ...graph, inputs: [], outputs: [] });
  b.input(inputInfo.name, 'float32', concreteInput);
  const eval_ = inferShapes(graph, {}, source);
  const form = toTrainingForm(b, (node) => {
    const s = eval_.get(node.inputs[0])!.shape;
    return reductionAxes(s.length).reduce((a, i) => a * s[i], 1);
  }, { dropout: options.dropout, seed: options.seed, shape: (v) => eval_.get(v)!.shape });
  const [n] = concreteInput;
  const labels = b.input('labels', 'int64', [n]);
  const [loss] = b.opN('SoftmaxCrossEntropyLoss', [logits, labels], { reduction: 'mean' }, { outputs: ['loss', b.fresh('log_prob')] });
  const forward = [...b.nodes];
  const shapes = inferShapes(b.graph(), {}, source);

  // Weights and running stats become graph inputs so that each step can feed the last one's outputs.
  const statInputs = new Set(form.runningStats.map((s) => s.input));
  const trainable = trainableInitializers({ ...forwardModel, graph: { ...graph, nodes: b.nodes, initializers: b.initializers } }).filter((p) => !statInputs.has(p));
  const frozenNames = trainable.filter((p) => options.frozen?.(p));
  const params = trainable.filter((p) => !options.frozen?.(p));
  const values = new Map<string, Tensor>();
  for (const name of [...trainable, ...form.runningStats.map((s) => s.input)]) {
    values.set(name, b.initializers.get(name)!);
    b.initializers.delete(name);
    b.inputs.push({ name, dtype: 'float32', shape: [...values.get(name)!.shape] });
  }

  // d(scale · loss) starts the backward pass at the scale itself.
  const lossScale = options.lossScaling ? b.input('loss_scale', 'float32', []) : undefined;
  const seed = lossScale ?? b.scalar(1, 'dloss');
  const wrt = options.inputGradient ? [...params, inputInfo.name] : params;
  const float32Nodes = new Set<Node>(forward.filter((n) => float32Ops.has(n.opType)));
  const emitted = (node: Node, backward: Node[]) => float32Ops.has(node.opType) && backward.forEach((n) => float32Nodes.add(n));
  const rawGrads = differentiate(b, { forward, shapes, seeds: new Map([[loss, seed]]), wrt, source, emitted });
  const backwardEnd = b.nodes.length;
  for (const name of params) if (!rawGrads.get(name)) throw new Error(`${source}: parameter "${name}" does not influence the loss`);
  const scaled = options.gradClip !== undefined || lossScale ? scaleGradients(b, new Map(params.map((p) => [p, rawGrads.get(p)!])), { lossScale, maxNorm: options.gradClip }) : undefined;
  const grads = scaled?.grads ?? rawGrads;
  // A skipped step keeps every weight and optimizer state as it was.
  const keep = (updated: string, old: string) => (lossScale ? b.op('Where', [scaled!.finite, updated, old]) : updated);

  const hyperGroups = new Map<string, string[]>();
  const parameters: TrainStep['parameters'] = [];
  for (const name of params) {
    const grad = grads.get(name)!;
    const group = options.hyperGroup?.(name) ?? 'all';
    const entry: TrainStep['parameters'][number] = { name, value: values.get(name)!, group, output: '', states: [] };
    if (options.optimizer !== 'none') {
      const kind = options.optimizer;
      if (!hyperGroups.has(group)) hyperGroups.set(group, hyperInputs[kind].map((h) => b.input(`hp.${group}.${h}`, 'float32', [])));
      const names = hyperGroups.get(group)!;
      const stateIns = stateNames[kind].map((s) => b.input(`${name}.${s}`, 'float32', [...values.get(name)!.shape]));
      const out = emitUpdate(kind, b, name, grad, stateIns, (h) => names[hyperInputs[kind].indexOf(h)]);
      entry.output = b.output(keep(out.param, name), 'float32', [...values.get(name)!.shape]);
      entry.states = stateIns.map((input, i) => ({ input, output: b.output(keep(out.states[i], input), 'float32', [...values.get(name)!.shape]) }));
    }
    if (options.optimizer === 'none' || options.exposeGradients) entry.grad = b.output(grad, 'float32', [...values.get(name)!.shape]);
    parameters.push(entry);
  }
  // Gradient scaling and the update run in float32.
  b.nodes.slice(backwardEnd).forEach((n) => float32Nodes.add(n));
  for (const [bn, nodes] of lower(b, (v) => shapes.get(v)!.shape)) if (float32Nodes.has(bn)) nodes.forEach((n) => float32Nodes.add(n));
  // Constants the training form stopped reading (e.g. Dropout ratios) would only draw ORT warnings.
  const read = new Set(b.nodes.flatMap((nd) => nd.inputs));
  for (const name of [...b.initializers.keys()]) if (!read.has(name)) b.initializers.delete(name);
  b.output(loss, 'float32', []);
  b.output(logits, 'float32', shapes.get(logits)!.shape);
  const runningStats = form.runningStats.map((s) => ({ ...s, value: values.get(s.input)! }));
  for (const s of runningStats) b.output(s.output, 'float32', [...s.value.shape]);
  const gradInput = options.inputGradient ? b.output(rawGrads.get(inputInfo.name)!, 'float32', concreteInput) : undefined;
  if (scaled) b.output(scaled.norm, 'float32', []);
  if (lossScale) b.output(scaled!.finite, 'bool', []);
  const model = b.build({ opset: 17 });
  if (options.fp16) model.graph = toMixedPrecision(model.graph, (n) => float32Nodes.has(n)).graph;
  return {
    model,
    input: inputInfo.name,
    labels,
    loss,
    logits,
    parameters,
    frozen: frozenNames.map((name) => ({ name, value: values.get(name)! })),
    runningStats,
    hyperGroups,
    dropoutMasks: form.dropoutMasks,
    gradInput,
    gradNorm: scaled?.norm,
    lossScale,
    finite: lossScale ? scaled!.finite : undefined,
  };
}
