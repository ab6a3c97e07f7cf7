// BatchNorm in training form. ONNX's BatchNormalization(training_mode=1) does not expose the
// batch statistics a backward pass needs and updates running_var with the biased variance, so
// Paddock writes it as a custom op `paddock.BatchNormTrain` while differentiating (its gradient is
// the fused closed form) and lowers it to standard ops before the graph is serialised.
import { registerShapeRule, type GraphBuilder, type Node } from '@paddock/onnx';
import { attrFloat } from '@paddock/onnx';
import { defineGrad } from './rule.ts';
import { reshape } from './helpers.ts';

export const BATCHNORM_TRAIN = 'BatchNormTrain';
export const PADDOCK_DOMAIN = 'paddock';

/** Outputs: Y, xhat (normalised input), invstd [1,C,1..], batch mean [C], biased batch var [C]. */
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
  const [, xhat, invstd] = node.outputs;
  const sx = shape(x);
  const c = sx[1];
  const axes = reductionAxes(sx.length);
  const m = sx.reduce((a, d) => a * d, 1) / c;
  const g = dy[0]!;
  const dBeta = b.op('ReduceSum', [g, b.int64s(axes, 'axes')], { keepdims: 0 });
  const dGamma = b.op('ReduceSum', [b.op('Mul', [g, xhat]), b.int64s(axes, 'axes')], { keepdims: 0 });
  let dx: string | undefined;
  if (needs(0)) {
    // dX = γ·invstd · (dY − mean(dY) − x̂·mean(dY·x̂)), with the means taken from dβ and dγ.
    const bs = broadcastShape(sx.length, c);
    const meanDy = reshape(b, b.op('Mul', [dBeta, b.scalar(1 / m)]), bs);
    const meanDyXhat = reshape(b, b.op('Mul', [dGamma, b.scalar(1 / m)]), bs);
    const centred = b.op('Sub', [b.op('Sub', [g, meanDy]), b.op('Mul', [xhat, meanDyXhat])]);
    dx = b.op('Mul', [centred, b.op('Mul', [reshape(b, scale, bs), invstd])]);
  }
  return [dx, needs(1) ? dGamma : undefined, needs(2) ? dBeta : undefined];
});

/** Standard-op expansion of one BatchNormTrain node, writing to the node's own output names. */
export function lowerBatchNormTrain(b: GraphBuilder, node: Node, rank: number, channels: number): void {
  const [x, scale, bias] = node.inputs;
  const [y, xhat, invstd, mean, variance] = node.outputs;
  const axes = reductionAxes(rank);
  const bs = broadcastShape(rank, channels);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  // Corrected two-pass statistics: the mean of the centred values removes the rounding error of
  // the first mean (it matters where BatchNorm1d over a small batch amplifies it, fastai's head).
  const mean0 = b.op('ReduceMean', [x], { axes, keepdims: 1 });
  const centred0 = b.op('Sub', [x, mean0]);
  const shift = b.op('ReduceMean', [centred0], { axes, keepdims: 1 });
  const meanK = b.op('Add', [mean0, shift]);
  const centred = b.op('Sub', [centred0, shift]);
  const varK = b.op('ReduceMean', [b.op('Mul', [centred, centred])], { axes, keepdims: 1 });
  b.emit('Reciprocal', [b.op('Sqrt', [b.op('Add', [varK, b.scalar(eps)])])], [invstd]);
  b.emit('Mul', [centred, invstd], [xhat]);
  b.emit('Add', [b.op('Mul', [xhat, reshape(b, scale, bs)]), reshape(b, bias, bs)], [y]);
  b.emit('Reshape', [meanK, b.int64s([channels], 'shape')], [mean]);
  b.emit('Reshape', [varK, b.int64s([channels], 'shape')], [variance]);
}
