// Reverse-mode differentiation of an ONNX graph into standard ONNX ops. The engine knows no op:
// it walks the forward nodes backwards, asks each op's rule (rules/*.ts) for its vector-Jacobian
// product, and sums the contributions of values read by several nodes.
import { UnsupportedOpError, describeNode, type GraphBuilder, type Node, type ValueType } from '@paddock/onnx';
import type { Tensor } from '@paddock/tensor';
import { registry } from './rule.ts';
import './rules/elementwise.ts';
import './rules/linear.ts';
import './rules/shape.ts';
import './rules/conv.ts';
import './rules/pool.ts';
import './rules/loss.ts';
import './rules/norm.ts';
import './rules/activation.ts';
import './rules/reduce.ts';
import './batchnorm.ts';

export interface DifferentiateOptions {
  /** The forward nodes, in topological order (a prefix of b.nodes, usually all of them). */
  forward: Node[];
  /** Static shapes of every forward value. */
  shapes: Map<string, ValueType>;
  /** Gradients to start from: value name → name of its gradient (e.g. loss → a constant 1). */
  seeds: Map<string, string>;
  /** Values whose gradients are wanted (parameters, maybe the input). */
  wrt: Iterable<string>;
  /** For error messages. */
  source?: string;
  /** Told which nodes each forward node's gradient rule emitted (mixed precision keeps some in float32). */
  emitted?: (forwardNode: Node, backward: Node[]) => void;
}

/** Ops the engine can differentiate (for up-front checks and error messages). */
export function differentiableOps(): string[] {
  return [...registry.keys()].sort();
}

/** Emits the backward pass into `b`; returns value name → gradient name for each `wrt`. */
export function differentiate(b: GraphBuilder, options: DifferentiateOptions): Map<string, string> {
  const { forward, shapes, seeds } = options;
  const wrt = new Set(options.wrt);
  const source = options.source ?? b.name;

  // Forward: which values depend on a wrt value (only those carry gradients).
  const dependsOnWrt = new Set<string>(wrt);
  for (const node of forward) if (node.inputs.some((i) => dependsOnWrt.has(i))) node.outputs.forEach((o) => dependsOnWrt.add(o));

  // Backward reachability from the seeds: nodes whose outputs lead to a seed.
  const leadsToSeed = new Set<string>(seeds.keys());
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (node.outputs.some((o) => leadsToSeed.has(o))) node.inputs.forEach((x) => leadsToSeed.add(x));
  }

  const constants = new Map<string, Tensor>();
  for (const node of forward) {
    const a = node.attrs.value;
    if (node.opType === 'Constant' && a?.kind === 'tensor') constants.set(node.outputs[0], a.value);
  }
  const constant = (value: string) => constants.get(value) ?? b.initializers.get(value);

  const pending = new Map<string, string[]>();
  for (const [value, grad] of seeds) pending.set(value, [grad]);
  const total = (value: string): string | undefined => {
    const parts = pending.get(value);
    if (!parts || parts.length === 0) return undefined;
    if (parts.length > 1) pending.set(value, [b.op('Sum', parts)]);
    return pending.get(value)![0];
  };

  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const needs = node.inputs.map((x) => x !== '' && dependsOnWrt.has(x) && leadsToSeed.has(x));
    if (!needs.some(Boolean)) continue;
    const dy = node.outputs.map((o) => total(o));
    if (dy.every((d) => d === undefined)) continue;
    const rule = registry.get(node.opType);
    if (!rule) {
      throw new UnsupportedOpError(node, source, `no gradient rule for ${node.opType}; differentiable ops: ${differentiableOps().join(', ')}`);
    }
    const shape = (value: string) => {
      const t = shapes.get(value);
      if (!t) throw new Error(`${source}: ${describeNode(node)}: no static shape for "${value}"`);
      return t.shape;
    };
    const start = b.nodes.length;
    const grads = rule({ node, b, dy, shape, constant, needs: (k) => needs[k] });
    options.emitted?.(node, b.nodes.slice(start));
    grads.forEach((g, k) => {
      if (g === undefined || !needs[k]) return;
      const x = node.inputs[k];
      pending.set(x, [...(pending.get(x) ?? []), g]);
    });
  }

  const result = new Map<string, string>();
  for (const value of wrt) {
    const g = total(value);
    if (g !== undefined) result.set(value, g);
  }
  return result;
}
