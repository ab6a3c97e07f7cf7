// fastai's parameter-group mechanics as predicates for buildTrainStep: freeze() (frozen groups
// get no gradient nodes, but BatchNorm keeps training: train_bn) and which parameters take no
// weight decay (BatchNorm/LayerNorm weights and every bias: the 1-D parameters).
import type { Model } from '@paddock/onnx';
import { trainableInitializers } from './train-step.ts';

/** Scale and bias inputs of every BatchNormalization node. */
export function batchNormParameters(model: Model): Set<string> {
  const out = new Set<string>();
  for (const n of model.graph.nodes) if (n.opType === 'BatchNormalization') n.inputs.slice(1, 3).forEach((p) => out.add(p));
  return out;
}

/**
 * A `frozen` predicate for TrainStepOptions: parameters whose group is not in `trainable` are
 * frozen, except BatchNorm scale/bias when `trainBn` (fastai's default). Compile one step per
 * distinct predicate (frozen / unfrozen) and keep both: switching then rebuilds nothing.
 */
export function freezePredicate(model: Model, group: (param: string) => string, trainable: Iterable<string>, trainBn = true): (param: string) => boolean {
  const groups = new Set(trainable);
  const bn = trainBn ? batchNormParameters(model) : new Set<string>();
  return (param) => !groups.has(group(param)) && !bn.has(param);
}

/** fastai applies no weight decay to normalisation weights and biases: the 1-D parameters. */
export function noWeightDecayParameters(model: Model): Set<string> {
  const byName = (name: string) => model.graph.initializers.get(name) ?? model.graph.initializers.get(model.graph.nodes.find((n) => n.outputs[0] === name)?.inputs[0] ?? '');
  return new Set(trainableInitializers(model).filter((p) => byName(p)?.shape.length === 1));
}
