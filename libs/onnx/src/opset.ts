// Normalises a graph exported at opset 13–20 to the opset-17 forms Paddock's training graphs are
// written in: axes inputs back to attributes (Reduce*, opset 18), Split's num_outputs and Pad's
// axes (18) spelled out, and Gelu (20) written as the Erf/Tanh formula exporters used before.
import { tensor, type Tensor } from '@paddock/tensor';
import { attrInt, attrString, describeNode, type AttrValue, type Graph, type Node } from './ir.ts';
import { analyseGraph, splitSizes } from './shapes.ts';

/** Reduce ops whose axes became an input in opset 18 (ReduceSum already was one in 13). */
const AXES_BECAME_INPUT = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

export function toOpset17(graph: Graph, opset: number, dims: Record<string, number> = {}, source = 'graph'): Graph {
  if (opset <= 17) return graph;
  const { types } = analyseGraph(graph, dims, source);
  const constants = new Map<string, Tensor>(graph.initializers);
  for (const n of graph.nodes) if (n.opType === 'Constant' && n.attrs.value?.kind === 'tensor') constants.set(n.outputs[0], n.attrs.value.value);
  const ints = (name: string, node: Node): number[] => {
    const t = constants.get(name);
    if (!t) throw new RangeError(`${source}: ${describeNode(node)}: "${name}" must be a build-time constant`);
    return Array.from(t.data as BigInt64Array, Number);
  };
  const i64 = (v: number[]): AttrValue => ({ kind: 'ints', value: v });
  let counter = 0;
  const nodes: Node[] = [];
  const constNode = (t: Tensor, hint: string): string => {
    const name = `${hint}/opset17_${counter++}`;
    nodes.push({ name, opType: 'Constant', domain: '', inputs: [], outputs: [name], attrs: { value: { kind: 'tensor', value: t } } });
    return name;
  };
  const f32 = (v: number, hint: string) => constNode(tensor('float32', [], Float32Array.of(v)), hint);
  for (const node of graph.nodes) {
    if (node.domain !== '') {
      nodes.push(node);
    } else if (AXES_BECAME_INPUT.includes(node.opType) && node.inputs[1]) {
      nodes.push({ ...node, inputs: [node.inputs[0]], attrs: { ...node.attrs, axes: i64(ints(node.inputs[1], node)) } });
    } else if (node.opType === 'Split' && node.attrs.num_outputs) {
      const x = types.get(node.inputs[0])!.shape;
      const axis = (attrInt(node, 'axis', 0) + x.length) % x.length;
      const sizes = splitSizes(x[axis], node.outputs.length, undefined, undefined, attrInt(node, 'num_outputs', 0));
      const { num_outputs: _, ...attrs } = node.attrs;
      nodes.push({ ...node, inputs: [node.inputs[0], constNode(tensor('int64', [sizes.length], BigInt64Array.from(sizes.map(BigInt))), node.name)], attrs });
    } else if (node.opType === 'Pad' && node.inputs[3]) {
      const rank = types.get(node.inputs[0])!.shape.length;
      const axes = ints(node.inputs[3], node).map((a) => (a + rank) % rank);
      const p = ints(node.inputs[1], node);
      const full = Array(2 * rank).fill(0);
      axes.forEach((a, i) => ((full[a] = p[i]), (full[a + rank] = p[i + axes.length])));
      nodes.push({ ...node, inputs: [node.inputs[0], constNode(tensor('int64', [full.length], BigInt64Array.from(full.map(BigInt))), node.name), node.inputs[2] ?? ''] });
    } else if (node.opType === 'Gelu') {
      const [x] = node.inputs;
      const out = (op: string, inputs: string[], output?: string) => {
        const name = output ?? `${node.name}/gelu_${counter++}`;
        nodes.push({ name: `${node.name}/${op}_${counter++}`, opType: op, domain: '', inputs, outputs: [name], attrs: {} });
        return name;
      };
      let inner: string;
      if (attrString(node, 'approximate', 'none') === 'tanh') {
        const cube = out('Mul', [out('Mul', [x, x]), x]);
        const arg = out('Mul', [out('Add', [x, out('Mul', [cube, f32(0.044715, node.name)])]), f32(Math.sqrt(2 / Math.PI), node.name)]);
        inner = out('Tanh', [arg]);
      } else inner = out('Erf', [out('Div', [x, f32(Math.SQRT2, node.name)])]);
      out('Mul', [out('Mul', [x, out('Add', [inner, f32(1, node.name)])]), f32(0.5, node.name)], node.outputs[0]);
    } else nodes.push(node);
  }
  return { ...graph, nodes };
}
