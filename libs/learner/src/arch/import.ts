// Pretrained import: an ONNX image classifier (torch.onnx.export, opset 13–20) cut at its global
// pool, with fastai's head attached as eval-mode ONNX (BatchNormalization with running stats,
// Dropout with a ratio), so the training engine treats it like any model built here.
import { GraphBuilder, attrInts, float, inferShapes, loadModel, type Graph, type Model, type Node } from '@paddock/onnx';
import { Random, tensor } from '@paddock/tensor';
import { constant, kaimingNormal } from '../init.ts';

/** Every parameter and buffer of the attached head is named `head.<fastai index>.*`. */
export const HEAD_PREFIX = 'head.';

/** Parameter group of a value of an imported model: the new head, or the pretrained body. */
export function parameterGroup(name: string): 'body' | 'head' {
  return name.startsWith(HEAD_PREFIX) ? 'head' : 'body';
}

/**
 * User-defined groups by name pattern: the first pattern that matches names the group (a string
 * matches as a prefix); names no pattern matches fall back to body/head.
 */
export function groupsByPattern(patterns: [RegExp | string, string][], fallback: (name: string) => string = parameterGroup): (name: string) => string {
  return (name) => {
    for (const [pattern, group] of patterns) if (typeof pattern === 'string' ? name.startsWith(pattern) : pattern.test(name)) return group;
    return fallback(name);
  };
}

export interface ImportOptions {
  classes: number;
  /** Name of the node to cut at (it and everything after it is dropped; its first input is the
   *  body's output). Default: the global pool (GlobalAveragePool, or ReduceMean over H and W). */
  cut?: string;
  seed: number;
  /** Dropout ratios of the head (fastai: 0.25 after the pool, 0.5 before the last Linear). */
  ps?: [number, number];
  /** Width of the head's hidden Linear (fastai: 512). */
  hidden?: number;
}

export interface ImportedClassifier {
  model: Model;
  /** The body's output: the feature map the head pools (N × nf × H × W). */
  body: string;
  /** The head's average-pool output (N × nf × 1 × 1): the original model's pooled features. */
  pooled: string;
  features: number;
  /** The node the body was cut at, in the source model. */
  cutAt: string;
}

function isSpatialMean(node: Node, graph: Graph): boolean {
  if (node.opType !== 'ReduceMean') return false;
  const fromInput = node.inputs[1] ? graph.initializers.get(node.inputs[1]) ?? constantOf(graph, node.inputs[1]) : undefined;
  const axes = attrInts(node, 'axes', undefined) ?? (fromInput ? Array.from(fromInput.data as BigInt64Array, Number) : []);
  const norm = axes.map((a) => (a < 0 ? a + 4 : a)).sort();
  return norm.join() === '2,3';
}

function constantOf(graph: Graph, value: string) {
  const n = graph.nodes.find((m) => m.opType === 'Constant' && m.outputs[0] === value);
  return n?.attrs.value?.kind === 'tensor' ? n.attrs.value.value : undefined;
}

/** The cut node: the one named, or the last global pool of the graph. */
export function findCut(graph: Graph, cut?: string): Node {
  if (cut) {
    const node = graph.nodes.find((n) => n.name === cut || n.outputs.includes(cut));
    if (!node) throw new Error(`import: no node named "${cut}" (nodes: ${graph.nodes.slice(-8).map((n) => n.name).join(', ')}, ...)`);
    return node;
  }
  const pools = graph.nodes.filter((n) => n.opType === 'GlobalAveragePool' || isSpatialMean(n, graph));
  if (pools.length === 0) throw new Error('import: no global pool (GlobalAveragePool or ReduceMean over H, W) found; name the node to cut at with `cut`');
  return pools[pools.length - 1];
}

/** The sub-graph computing `output`: only the nodes and initializers it needs. */
function bodyGraph(graph: Graph, output: string): Graph {
  const needed = new Set([output]);
  const nodes: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    n.inputs.forEach((x) => x && needed.add(x));
    nodes.unshift(n);
  }
  const initializers = new Map([...graph.initializers].filter(([k]) => needed.has(k)));
  return { ...graph, nodes, initializers, inputs: graph.inputs.filter((v) => needed.has(v.name)), outputs: [], valueInfo: [] };
}

export function importClassifier(modelPath: string, options: ImportOptions): ImportedClassifier {
  return importClassifierModel(loadModel(modelPath), options, modelPath);
}

export function importClassifierModel(source: Model, options: ImportOptions, where = 'model'): ImportedClassifier {
  const graph = source.graph;
  if (graph.inputs.length !== 1) throw new Error(`${where}: an image classifier has one input; found ${graph.inputs.map((v) => v.name).join(', ')}`);
  const cutNode = findCut(graph, options.cut);
  const body = cutNode.inputs[0];
  const pruned = bodyGraph(graph, body);
  for (const name of pruned.initializers.keys()) if (parameterGroup(name) === 'head') throw new Error(`${where}: body initializer "${name}" collides with the head's prefix "${HEAD_PREFIX}"`);
  // Shapes at batch 1 give the feature map's size (the max pool's kernel, as the exporter writes
  // AdaptiveMaxPool2d(1) for a static size) and nf.
  const dims: Record<string, number> = {};
  graph.inputs[0].shape.forEach((d, i) => {
    if (typeof d !== 'string') return;
    if (i > 0) throw new Error(`${where}: input "${graph.inputs[0].name}" has a dynamic size "${d}" at axis ${i}; export with a fixed image size (only the batch may be dynamic)`);
    dims[d] = 1;
  });
  const featureShape = inferShapes({ ...pruned, outputs: [] }, dims, where).get(body)!.shape;
  if (featureShape.length !== 4) throw new Error(`${where}: the body output "${body}" is ${featureShape.length}-D; expected N×C×H×W`);
  const [, nf, h, w] = featureShape;

  const random = new Random(options.seed);
  const [p1, p2] = options.ps ?? [0.25, 0.5];
  const hidden = options.hidden ?? 512;
  const b = GraphBuilder.from(pruned, 'head/');
  b.outputs.splice(0);
  const bn = (index: number, x: string, c: number) => {
    const name = `${HEAD_PREFIX}${index}`;
    const inputs = [
      b.initializer(`${name}.weight`, constant([c], 1)),
      b.initializer(`${name}.bias`, constant([c], 1e-3)),
      b.initializer(`${name}.running_mean`, constant([c], 0)),
      b.initializer(`${name}.running_var`, constant([c], 1)),
    ];
    return b.op('BatchNormalization', [x, ...inputs], { epsilon: float(1e-5), momentum: float(0.9) }, { name: `/${name}/BatchNormalization` });
  };
  const dropout = (index: number, x: string, p: number) => b.op('Dropout', [x, b.constant(tensor('float32', [], Float32Array.of(p)), `${HEAD_PREFIX}${index}.p`)], {}, { name: `/${HEAD_PREFIX}${index}/Dropout` });
  const linear = (index: number, x: string, fanIn: number, fanOut: number, outputs?: string[]) => {
    // fastai: kaiming_normal_ (fan_in, ReLU gain); exported as Transpose(W) + MatMul (no bias).
    const weight = b.initializer(`${HEAD_PREFIX}${index}.weight`, kaimingNormal([fanOut, fanIn], fanIn, random.fork(`${HEAD_PREFIX}${index}.weight`)));
    return b.opN('MatMul', [x, b.op('Transpose', [weight], { perm: [1, 0] })], {}, { name: `/${HEAD_PREFIX}${index}/MatMul`, ...(outputs ? { outputs } : {}) })[0];
  };
  // AdaptiveConcatPool2d: MAX first, then average (fastai's torch.cat([mp(x), ap(x)], 1)).
  const mp = b.op('MaxPool', [body], { kernel_shape: [h, w], strides: [h, w] }, { name: `/${HEAD_PREFIX}0/mp/MaxPool` });
  const pooled = b.op('GlobalAveragePool', [body], {}, { name: `/${HEAD_PREFIX}0/ap/GlobalAveragePool` });
  let x = b.op('Flatten', [b.op('Concat', [mp, pooled], { axis: 1 })], { axis: 1 });
  x = dropout(3, bn(2, x, 2 * nf), p1);
  x = b.op('Relu', [linear(4, x, 2 * nf, hidden)]);
  x = dropout(7, bn(6, x, hidden), p2);
  const logits = pruned.nodes.some((n) => n.outputs.includes('logits')) || pruned.initializers.has('logits') ? b.fresh('logits') : 'logits';
  linear(8, x, hidden, options.classes, [logits]);
  b.output(logits, 'float32', [graph.inputs[0].shape[0], options.classes]);
  const opset = Math.max(13, source.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 17);
  const model = b.build({ opset, metadata: { ...source.metadata, 'paddock.import': JSON.stringify({ source: where, cut: cutNode.name, body, features: nf, classes: options.classes }) } });
  return { model, body, pooled, features: nf, cutAt: cutNode.name };
}
