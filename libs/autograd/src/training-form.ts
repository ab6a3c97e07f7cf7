// Turns an inference graph (as exported, eval mode) into its training form: BatchNorm on batch
// statistics with PyTorch's running-stat update, MaxPool exposing Indices, aliases untied.
import { attrFloat, attrInt, float, type GraphBuilder, type Node } from '@paddock/onnx';
import { tensor, type Random, type Tensor } from '@paddock/tensor';
import { BATCHNORM_TRAIN, PADDOCK_DOMAIN, lowerBatchNormTrain } from './batchnorm.ts';

export interface RunningStat {
  /** The initializer holding the value before the step (a graph input of the training step). */
  input: string;
  /** The value after the step (a graph output). */
  output: string;
}

export interface DropoutMask {
  /** Graph input the caller feeds each step (dropout: 'input'): 0 or 1/(1 − ratio) per element. */
  input: string;
  shape: number[];
  ratio: number;
}

export interface TrainingFormOptions {
  /** 'graph' (default): the mask comes from a seeded RandomUniformLike inside the graph (a new
   *  draw every run, the same sequence for the same seed); 'input': the mask is a graph input,
   *  fed by the caller (see dropoutMask), which makes a step reproducible and checkable. */
  dropout?: 'graph' | 'input';
  seed?: number;
  /** Static shape of a forward value (needed for Dropout masks fed as inputs). */
  shape?: (value: string) => number[];
}

export interface TrainingForm {
  runningStats: RunningStat[];
  dropoutMasks: DropoutMask[];
}

/**
 * Rewrites `b` in place. `n` is the element count each BatchNorm reduces over, known only from
 * shapes, so it is read lazily through `reductionCount(node)`.
 */
export function toTrainingForm(b: GraphBuilder, reductionCount: (node: Node) => number, options: TrainingFormOptions = {}): TrainingForm {
  untieIdentityAliases(b);
  const runningStats: RunningStat[] = [];
  const dropoutMasks: DropoutMask[] = [];
  const constants = new Map<string, Tensor>(b.initializers);
  for (const n of b.nodes) if (n.opType === 'Constant' && n.attrs.value?.kind === 'tensor') constants.set(n.outputs[0], n.attrs.value.value);
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
    } else if (node.opType === 'LayerNormalization' && (!node.outputs[1] || !node.outputs[2])) {
      // Its gradient reads the per-row mean and inverse std the op computes anyway.
      b.nodes.push({ ...node, outputs: [node.outputs[0], node.outputs[1] || b.fresh(`${node.name}_mean`), node.outputs[2] || b.fresh(`${node.name}_invstd`)] });
    } else if (node.opType === 'SoftmaxCrossEntropyLoss' && !node.outputs[1]) {
      b.nodes.push({ ...node, outputs: [node.outputs[0], b.fresh(`${node.name}_log_prob`)] });
    } else if (node.opType === 'Dropout') {
      const ratioT = node.inputs[1] ? constants.get(node.inputs[1]) : undefined;
      if (node.inputs[1] && !ratioT) throw new RangeError(`Dropout "${node.name}": the ratio must be a build-time constant`);
      const ratio = ratioT ? Number(ratioT.data[0]) : attrFloat(node, 'ratio', 0.5);
      if (ratio === 0) {
        b.nodes.push({ ...node, opType: 'Identity', inputs: [node.inputs[0]], outputs: [node.outputs[0]], attrs: {} });
        continue;
      }
      const x = node.inputs[0];
      let scaledMask: string;
      if (options.dropout === 'input') {
        if (!options.shape) throw new Error('toTrainingForm: dropout masks as inputs need shapes');
        const shape = options.shape(x);
        scaledMask = b.input(`dropout_mask.${node.name}`, 'float32', shape);
        dropoutMasks.push({ input: scaledMask, shape, ratio });
      } else {
        // Keep with probability 1 − ratio, scale the kept values by 1/(1 − ratio) (PyTorch).
        // RandomUniform (not ...Like): the mask must not depend on x, or it would sit on the gradient path.
        if (!options.shape) throw new Error('toTrainingForm: in-graph dropout masks need shapes');
        const seed = (options.seed ?? 0) + dropoutMasks.length + 1;
        dropoutMasks.push({ input: '', shape: [], ratio });
        const u = b.op('RandomUniform', [], { dtype: 1, low: float(0), high: float(1), seed: float(seed), shape: options.shape(x) });
        scaledMask = b.op('Mul', [b.cast(b.op('Less', [u, b.scalar(1 - ratio)]), 'float32'), b.scalar(1 / (1 - ratio))]);
      }
      b.emit('Mul', [x, scaledMask], [node.outputs[0]]);
      if (node.outputs[1]) b.emit('Greater', [scaledMask, b.scalar(0)], [node.outputs[1]]);
    } else b.nodes.push(node);
  }
  return { runningStats, dropoutMasks: dropoutMasks.filter((m) => m.input !== '') };
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

/** Replace every custom op by standard ops (keeping topological order); returns the nodes each became. */
export function lower(b: GraphBuilder, shape: (value: string) => number[]): Map<Node, Node[]> {
  const old = b.nodes.splice(0);
  const lowered = new Map<Node, Node[]>();
  for (const node of old) {
    if (node.domain === PADDOCK_DOMAIN && node.opType === BATCHNORM_TRAIN) {
      const s = shape(node.inputs[0]);
      const start = b.nodes.length;
      lowerBatchNormTrain(b, node, s.length, s[1]);
      lowered.set(node, b.nodes.slice(start));
    } else b.nodes.push(node);
  }
  return lowered;
}

/** A PyTorch-style dropout mask for a fed input: 0 with probability `ratio`, else 1/(1 − ratio). */
export function dropoutMask(shape: number[], ratio: number, random: Random): Tensor<'float32'> {
  const data = new Float32Array(shape.reduce((a, d) => a * d, 1));
  for (let i = 0; i < data.length; i++) data[i] = random.uniform(0, 1) < ratio ? 0 : 1 / (1 - ratio);
  return tensor('float32', shape, data);
}
