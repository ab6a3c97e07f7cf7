// Optimizer updates as graph ops, one parameter at a time. Hyper-parameters are graph inputs per
// hyper-parameter group, computed in JS each step (schedules, bias corrections), so one compiled
// graph serves every step of a run.
import type { GraphBuilder } from '@paddock/onnx';

export type OptimizerKind = 'adamw' | 'sgd';

/** Scalar graph inputs of one hyper-parameter group, in feed order. */
export const hyperInputs: Record<OptimizerKind, readonly string[]> = {
  // decay = 1 − lr·wd (decoupled), step = lr / (1 − β1^t), invDebias2 = 1/√(1 − β2^t)
  adamw: ['decay', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'step', 'invDebias2', 'eps'],
  // decay = 1 − lr·wd (decoupled, fastai), l2 = wd added to the gradient (torch), momentum 0 on t = 1
  sgd: ['decay', 'l2', 'momentum', 'lr'],
};

/** Optimizer state tensors kept per parameter. */
export const stateNames: Record<OptimizerKind, readonly string[]> = {
  adamw: ['exp_avg', 'exp_avg_sq'],
  sgd: ['momentum_buffer'],
};

export interface UpdateOutputs {
  param: string;
  states: string[];
}

/** Emits one parameter's update. `hp(name)` gives the group's hyper-parameter input. */
export function emitUpdate(kind: OptimizerKind, b: GraphBuilder, param: string, grad: string, states: string[], hp: (name: string) => string): UpdateOutputs {
  if (kind === 'adamw') {
    // fastai's Adam with true weight decay (= torch AdamW): p ← p·(1 − lr·wd) first.
    const [m, v] = states;
    const decayed = b.op('Mul', [param, hp('decay')]);
    const m2 = b.op('Add', [b.op('Mul', [m, hp('beta1')]), b.op('Mul', [grad, hp('oneMinusBeta1')])]);
    const v2 = b.op('Add', [b.op('Mul', [v, hp('beta2')]), b.op('Mul', [b.op('Mul', [grad, grad]), hp('oneMinusBeta2')])]);
    const denom = b.op('Add', [b.op('Mul', [b.op('Sqrt', [v2]), hp('invDebias2')]), hp('eps')]);
    const p2 = b.op('Sub', [decayed, b.op('Mul', [b.op('Div', [m2, denom]), hp('step')])]);
    return { param: p2, states: [m2, v2] };
  }
  const [buf] = states;
  const d = b.op('Add', [grad, b.op('Mul', [param, hp('l2')])]);
  const buf2 = b.op('Add', [b.op('Mul', [buf, hp('momentum')]), d]);
  const p2 = b.op('Sub', [b.op('Mul', [param, hp('decay')]), b.op('Mul', [buf2, hp('lr')])]);
  return { param: p2, states: [buf2] };
}

export interface AdamHyper {
  lr: number;
  /** β1, fastai's `mom` (driven by the one-cycle momentum schedule). */
  mom: number;
  sqrMom: number;
  eps: number;
  wd: number;
}

export interface SgdHyper {
  lr: number;
  mom: number;
  wd: number;
  /** true: decoupled decay p·(1 − lr·wd) as fastai; false: L2 through the gradient as torch. */
  decoupled: boolean;
}

/** The values of hyperInputs for step t (counting from 1). */
export function adamwFeeds(h: AdamHyper, t: number): number[] {
  return [1 - h.lr * h.wd, h.mom, 1 - h.mom, h.sqrMom, 1 - h.sqrMom, h.lr / (1 - h.mom ** t), 1 / Math.sqrt(1 - h.sqrMom ** t), h.eps];
}

export function sgdFeeds(h: SgdHyper, t: number): number[] {
  // The momentum buffer starts as a copy of the first gradient: momentum 0 on step 1 does that.
  return [h.decoupled ? 1 - h.lr * h.wd : 1, h.decoupled ? 0 : h.wd, t === 1 ? 0 : h.mom, h.lr];
}
