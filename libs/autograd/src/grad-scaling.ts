// What happens to the gradients between the backward pass and the optimizer: unscaling by the
// loss scale (mixed precision), the global L2 norm, clipping to a maximum norm (torch
// clip_grad_norm_, fastai GradientClip) and the "all finite" flag that decides whether the
// update is applied (torch GradScaler skips a step whose gradients overflowed).
import type { GraphBuilder } from '@paddock/onnx';

export interface GradScalingOptions {
  /** Scalar graph input the loss was multiplied by before backward (dynamic loss scaling). */
  lossScale?: string;
  /** Clip the global L2 norm of all gradients to this (torch: max_norm). */
  maxNorm?: number;
}

export interface ScaledGradients {
  /** Parameter → gradient as the optimizer should see it (unscaled, clipped). */
  grads: Map<string, string>;
  /** Global L2 norm of the unscaled gradients, before clipping (scalar). */
  norm: string;
  /** Bool scalar: every gradient is finite (false when the norm is inf or NaN). */
  finite: string;
}

/**
 * One factor per step multiplies every gradient: 1/scale · min(1, max_norm / (norm + 1e-6)), as
 * torch's GradScaler.unscale_ then clip_grad_norm_ compute it (clip_coef clamped to 1, so an
 * unclipped step multiplies by exactly 1). The norm is taken from the raw gradients and unscaled
 * afterwards, which is the same value when the scale is a power of two.
 */
export function scaleGradients(b: GraphBuilder, grads: Map<string, string>, options: GradScalingOptions): ScaledGradients {
  const squares = [...grads.values()].map((g) => b.op('ReduceSumSquare', [g], { keepdims: 0 }));
  const sumSquares = squares.length === 1 ? squares[0] : b.op('Sum', squares);
  const invScale = options.lossScale ? b.op('Reciprocal', [options.lossScale]) : undefined;
  const rawNorm = b.op('Sqrt', [sumSquares]);
  const norm = invScale ? b.op('Mul', [rawNorm, invScale]) : rawNorm;
  // A norm of inf or NaN means some gradient is (or its squares overflowed float32, ~1.8e19 per element).
  const finite = b.op('Not', [b.op('Or', [b.op('IsInf', [norm]), b.op('IsNaN', [norm])])]);
  let factor = invScale;
  if (options.maxNorm !== undefined) {
    const coef = b.op('Min', [b.op('Div', [b.scalar(options.maxNorm, 'max_norm'), b.op('Add', [norm, b.scalar(1e-6, 'clip_eps')])]), b.scalar(1, 'one')]);
    factor = factor ? b.op('Mul', [factor, coef]) : coef;
  }
  const out = new Map<string, string>();
  for (const [p, g] of grads) out.set(p, factor ? b.op('Mul', [g, factor]) : g);
  return { grads: out, norm, finite };
}
