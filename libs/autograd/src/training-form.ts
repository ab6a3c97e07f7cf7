// Turns an inference graph (as exported, eval mode) into its training form: BatchNorm on batch
// statistics with PyTorch's running-stat update, MaxPool exposing Indices, aliases untied.
import { attrFloat, attrInt, type GraphBuilder, type Node } from '@paddock/onnx';
import { BATCHNORM_TRAIN, PADDOCK_DOMAIN, lowerBatchNormTrain } from './batchnorm.ts';

export interface RunningStat {
  /** The initializer holding the value before the step (a graph input of the training step). */
  input: string;
  /** The value after the step (a graph output). */
  output: string;
}

export interface TrainingForm {
  runningStats: RunningStat[];
}

/**
 * Rewrites `b` in place. `n` is the element count each BatchNorm reduces over, known only from
 * shapes, so it is read lazily through `reductionCount(node)`.
 */
export function toTrainingForm(b: GraphBuilder, reductionCount: (node: Node) => number): TrainingForm {
  untieIdentityAliases(b);
  const runningStats: RunningStat[] = [];
  const old = b.nodes.splice(0);
  for (const node of old) {
    if (node.opType === 'BatchNormalization' && attrInt(node, 'training_mode', 0) === 0) {
      const [x, scale, bias, runningMean, runningVar] = node.inputs;
      const n = reductionCount(node);
      const momentum = attrFloat(node, 'momentum', 0.9); // ONNX: weight of the OLD value
      const [xhat, invstd, mean, variance] = ['xhat', 'invstd', 'batch_mean', 'batch_var'].map((h) => b.fresh(`${node.name}_${h}`));
      b.nodes.push({
        name: b.fresh(`${node.name}_train`),
        opType: BATCHNORM_TRAIN,
        domain: PADDOCK_DOMAIN,
        inputs: [x, scale, bias],
        outputs: [node.outputs[0], xhat, invstd, mean, variance],
        attrs: { epsilon: { kind: 'float', value: attrFloat(node, 'epsilon', 1e-5) } },
      });
      // PyTorch: running_var uses the UNBIASED batch variance, normalisation the biased one.
      const newMean = b.op('Add', [b.op('Mul', [runningMean, b.scalar(momentum)]), b.op('Mul', [mean, b.scalar(1 - momentum)])]);
      const newVar = b.op('Add', [b.op('Mul', [runningVar, b.scalar(momentum)]), b.op('Mul', [variance, b.scalar(((1 - momentum) * n) / (n - 1))])]);
      runningStats.push({ input: runningMean, output: newMean }, { input: runningVar, output: newVar });
    } else if (node.opType === 'MaxPool' && !node.outputs[1]) {
      b.nodes.push({ ...node, outputs: [node.outputs[0], b.fresh(`${node.name}_indices`)] });
    } else if (node.opType === 'SoftmaxCrossEntropyLoss' && !node.outputs[1]) {
      b.nodes.push({ ...node, outputs: [node.outputs[0], b.fresh(`${node.name}_log_prob`)] });
    } else if (node.opType === 'Dropout') {
      const ratio = node.inputs[1] ? undefined : 0.5;
      if (ratio !== undefined && attrInt(node, 'training_mode', 0) === 1) throw new RangeError(`Dropout "${node.name}": training-mode dropout is not supported yet`);
      b.nodes.push({ ...node, opType: 'Identity', inputs: [node.inputs[0]], outputs: [node.outputs[0]], attrs: {} });
    } else b.nodes.push(node);
  }
  return { runningStats };
}

/**
 * torch.onnx.export de-duplicates bit-identical initializers and reads the copies through
 * Identity nodes; training must give each tensor its own storage, or one update moves all.
 */
function untieIdentityAliases(b: GraphBuilder): void {
  const keep: Node[] = [];
  for (const node of b.nodes) {
    const source = node.opType === 'Identity' ? b.initializers.get(node.inputs[0]) : undefined;
    if (source && source.dtype === 'float32') {
      b.initializers.set(node.outputs[0], { ...source, data: source.data.slice() as never, shape: [...source.shape] });
    } else keep.push(node);
  }
  b.nodes.splice(0, b.nodes.length, ...keep);
}

/** Replace every custom op by standard ops (keeping topological order). */
export function lower(b: GraphBuilder, shape: (value: string) => number[]): void {
  const old = b.nodes.splice(0);
  for (const node of old) {
    if (node.domain === PADDOCK_DOMAIN && node.opType === BATCHNORM_TRAIN) {
      const s = shape(node.inputs[0]);
      lowerBatchNormTrain(b, node, s.length, s[1]);
    } else b.nodes.push(node);
  }
}
