// What a gradient rule sees: the forward node, the gradients of its outputs, the builder to emit
// standard ONNX ops into, and the static shapes of every forward value.
import type { GraphBuilder, Node } from '@paddock/onnx';
import type { Tensor } from '@paddock/tensor';

export interface GradContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  /** Gradient of each output (undefined where nothing downstream depends on it). */
  readonly dy: readonly (string | undefined)[];
  /** Static shape of a forward value. */
  shape(value: string): number[];
  /** Build-time value of a forward value (initializer or Constant output), e.g. axes, pads, exponents. */
  constant(value: string): Tensor | undefined;
  /** Whether input i needs a gradient (only those are computed). */
  needs(i: number): boolean;
}

/** A vector-Jacobian product: gradients for the node's inputs (undefined = none). */
export type GradRule = (ctx: GradContext) => (string | undefined)[];

export const registry = new Map<string, GradRule>();

export function defineGrad(opType: string | string[], rule: GradRule): void {
  for (const op of Array.isArray(opType) ? opType : [opType]) registry.set(op, rule);
}
