// BatchNorm in training form. ONNX's BatchNormalization(training_mode=1) does not expose the
// batch statistics a backward pass needs and updates running_var with the biased variance, so
// Paddock writes it as a custom op `paddock.BatchNormTrain` while differentiating (its gradient is
// the fused closed form) and lowers it to standard ops before the graph is serialised.
import { registerShapeRule, type GraphBuilder, type Node } from '@paddock/onnx';
import { attrFloat, float } from '@paddock/onnx';
import { defineGrad } from './rule.ts';
import { reshape } from './helpers.ts';

export const BATCHNORM_TRAIN = 'BatchNormTrain';
export const PADDOCK_DOMAIN = 'paddock';

/** Outputs: Y, the centred input x − mean, invstd [1,C,1..], batch mean [C], biased batch var [C]. */
registerShapeRule(BATCHNORM_TRAIN, ({ inputs }) => {
  const x = inputs[0]!;
  const c = x.shape[1];
  const stat = x.shape.map((d, i) => (i === 1 ? c : 1));
  return [x, x, { dtype: 'float32', shape: stat }, { dtype: 'float32', shape: [c] }, { dtype: 'float32', shape: [c] }];
});

export function reductionAxes(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
}

function broadcastShape(rank: number, c: number): number[] {
  return Array.from({ length: rank }, (_, i) => (i === 1 ? c : 1));
}

defineGrad(BATCHNORM_TRAIN, ({ node, b, dy, shape, needs }) => {
  const [x, scale] = node.inputs;
  const [, centred, invstd] = node.outputs;
  const sx = shape(x);
  const c = sx[1];
  const axes = reductionAxes(sx.length);
  const m = sx.reduce((a, d) => a * d, 1) / c;
  const bs = broadcastShape(sx.length, c);
  const g = dy[0]!;
  const sum = (v: string) => b.op('ReduceSum', [v, b.int64s(axes, 'axes')], { keepdims: 0 });
  const dBeta = sum(g);
  // Σ dY·(x − mean); dγ = Σ dY·x̂ = invstd · that.
  const dyCentred = sum(b.op('Mul', [g, centred]));
  const dGamma = b.op('Mul', [dyCentred, reshape(b, invstd, [c])]);
  let dx: string | undefined;
  if (needs(0)) {
    // dX = γ·invstd · (dY − mean(dY) − x̂·mean(dY·x̂)), expanded per channel into
    // dY·k₁ + (x − mean)·k₂ + k₃: three elementwise ops over the tensor instead of five.
    const k1 = b.op('Mul', [reshape(b, scale, bs), invstd]);
    const perElement = (v: string) => reshape(b, b.op('Mul', [v, b.scalar(-1 / m)]), bs);
    const k2 = b.op('Mul', [b.op('Mul', [k1, b.op('Mul', [invstd, invstd])]), perElement(dyCentred)]);
    const k3 = b.op('Mul', [k1, perElement(dBeta)]);
    dx = b.op('Sum', [b.op('Mul', [g, k1]), b.op('Mul', [centred, k2]), k3]);
  }
  return [dx, needs(1) ? dGamma : undefined, needs(2) ? dBeta : undefined];
});

/** Standard-op expansion of one BatchNormTrain node, writing to the node's own output names. */
export function lowerBatchNormTrain(b: GraphBuilder, node: Node, rank: number, channels: number): void {
  const [x, scale, bias] = node.inputs;
  const [y, centred, invstd, mean, variance] = node.outputs;
  const axes = reductionAxes(rank);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  // Corrected two-pass statistics: the mean of the centred values removes the rounding error of
  // the first mean (it matters where BatchNorm1d over a small batch amplifies it, fastai's head).
  const mean0 = b.op('ReduceMean', [x], { axes, keepdims: 1 });
  const centred0 = b.op('Sub', [x, mean0]);
  const shift = b.op('ReduceMean', [centred0], { axes, keepdims: 1 });
  const meanK = b.op('Add', [mean0, shift]);
  b.emit('Sub', [centred0, shift], [centred]);
  const varK = b.op('ReduceMean', [b.op('Mul', [centred, centred])], { axes, keepdims: 1 });
  b.emit('Reciprocal', [b.op('Sqrt', [b.op('Add', [varK, b.scalar(eps)])])], [invstd]);
  b.emit('Reshape', [meanK, b.int64s([channels], 'shape')], [mean]);
  b.emit('Reshape', [varK, b.int64s([channels], 'shape')], [variance]);
  // Normalise and scale in one pass: inference-mode BatchNormalization on the batch statistics.
  b.emit('BatchNormalization', [x, scale, bias, mean, variance], [y], { epsilon: float(eps) });
}
