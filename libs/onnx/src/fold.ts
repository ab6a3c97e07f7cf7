// Constant folding for a fixed input size: the Shape/Gather/Unsqueeze/Concat (and Cast,
// ConstantOfShape, ...) sub-graphs exporters emit for dynamic shapes become Constant nodes, so a
// training graph holds only ops that carry data, and Reshape/Expand see literal shapes.
import { analyseGraph } from './shapes.ts';
import type { Graph, Node } from './ir.ts';

/**
 * A copy of `graph` in which every node whose outputs are build-time constants (for the sizes
 * in `dims`) is replaced by Constant nodes, and Constants nothing reads any more are dropped.
 * Float arithmetic is never folded (it stays bit-identical to what ORT computes).
 */
export function foldConstants(graph: Graph, dims: Record<string, number> = {}, source = 'graph'): Graph {
  const { folded } = analyseGraph(graph, dims, source);
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (node.opType !== 'Constant' && node.outputs.length > 0 && node.outputs.every((o) => o === '' || folded.has(o))) {
      node.outputs.forEach((o, i) => {
        if (o) nodes.push({ name: `${node.name}/folded${i}`, opType: 'Constant', domain: '', inputs: [], outputs: [o], attrs: { value: { kind: 'tensor', value: folded.get(o)! } } });
      });
    } else nodes.push(node);
  }
  // Drop Constants (folded or original) whose value no node and no graph output reads.
  const read = new Set<string>(graph.outputs.map((o) => o.name));
  const live: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node.opType === 'Constant' && !read.has(node.outputs[0])) continue;
    node.inputs.forEach((x) => read.add(x));
    live.unshift(node);
  }
  return { ...graph, nodes: live };
}
