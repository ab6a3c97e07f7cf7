// Mixed precision: rewrite a float32 graph so that its compute runs in float16 while chosen nodes
// (BatchNorm, the loss, the optimizer) stay float32, as torch autocast does. Float32 values
// entering a float16 node are cast down once (the master weights stay float32 graph inputs);
// float16 values entering a float32 node, or leaving the graph, are cast back up.
import { onnxDataType, type Graph, type Node } from '@paddock/onnx';

const FLOAT = onnxDataType('float32');
const HALF = onnxDataType('float16');

/** Ops whose float output type comes from an attribute, not from their inputs: left in float32. */
const typedByAttribute = new Set(['Constant', 'ConstantOfShape', 'EyeLike', 'RandomUniform', 'RandomNormal', 'RandomUniformLike', 'RandomNormalLike']);
/** Ops ORT's CPU provider cannot run in float16 (ScatterElements with reduction add, the MaxPool gradient). */
const float32Only = new Set(['ScatterElements']);
/** Inputs that must stay float32 whatever the node's precision (Resize's roi and scales). */
const float32Inputs: Record<string, number[]> = { Resize: [1, 2] };
const boolOutputs = new Set(['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsInf', 'IsNaN']);
const intOutputs = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

/** Names of the float32 values of a graph (inputs, initializers, and what nodes compute from them). */
export function float32Values(graph: Graph): Set<string> {
  const floats = new Set<string>();
  for (const v of graph.inputs) if (v.dtype === 'float32') floats.add(v.name);
  for (const [name, t] of graph.initializers) if (t.dtype === 'float32') floats.add(name);
  for (const node of graph.nodes) {
    const to = node.attrs.to;
    const value = node.attrs.value;
    let float: boolean;
    if (node.opType === 'Cast') float = to?.kind === 'int' && to.value === FLOAT;
    else if (boolOutputs.has(node.opType) || intOutputs.has(node.opType)) float = false;
    else if (node.opType === 'Constant' || node.opType === 'ConstantOfShape') float = value === undefined ? node.opType === 'ConstantOfShape' : value.kind === 'tensor' && value.value.dtype === 'float32';
    else if (node.opType === 'Where') float = floats.has(node.inputs[1]);
    else if (node.opType === 'OneHot') float = floats.has(node.inputs[2]);
    else float = node.inputs.some((x) => floats.has(x));
    // Second outputs that are never float: MaxPool indices, Dropout masks.
    node.outputs.forEach((o, i) => float && o !== '' && !(i > 0 && (node.opType === 'MaxPool' || node.opType === 'Dropout')) && floats.add(o));
  }
  return floats;
}

export interface MixedPrecision {
  graph: Graph;
  /** Nodes computing in float16 (for checks and reports). */
  half: Node[];
}

/**
 * Every node not kept in float32 computes in float16. Graph inputs and outputs keep their float32
 * types: an output computed in float16 is produced as "<name>_fp16" and cast to "<name>".
 */
export function toMixedPrecision(graph: Graph, keepFloat32: (node: Node) => boolean): MixedPrecision {
  const floats = float32Values(graph);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const halfValues = new Set<string>();
  /** A value's float16 copy (a Cast of a float32 value, or the renamed output of a float16 node). */
  const asHalf = new Map<string, string>();
  const asFloat = new Map<string, string>();
  const nodes: Node[] = [];
  const half: Node[] = [];
  const used = new Set([...graph.nodes.flatMap((n) => [...n.inputs, ...n.outputs]), ...graph.initializers.keys(), ...graph.inputs.map((i) => i.name)]);
  const unique = (name: string) => {
    let n = name;
    for (let k = 1; used.has(n); k++) n = `${name}_${k}`;
    used.add(n);
    return n;
  };
  const cast = (x: string, to: number, cache: Map<string, string>) => {
    let y = cache.get(x);
    if (!y) {
      y = unique(`${x}_${to === HALF ? 'fp16' : 'fp32'}`);
      nodes.push({ name: unique(`Cast_${y}`), opType: 'Cast', domain: '', inputs: [x], outputs: [y], attrs: { to: { kind: 'int', value: to } } });
      cache.set(x, y);
    }
    return y;
  };

  for (const node of graph.nodes) {
    const inHalf = !keepFloat32(node) && !typedByAttribute.has(node.opType) && !float32Only.has(node.opType) && node.domain === '';
    const keep = float32Inputs[node.opType] ?? [];
    const inputs = node.inputs.map((x, i) => {
      if (x === '' || keep.includes(i)) return x;
      if (inHalf) return halfValues.has(x) ? x : asHalf.get(x) ?? (floats.has(x) ? cast(x, HALF, asHalf) : x);
      return halfValues.has(x) ? cast(x, FLOAT, asFloat) : x;
    });
    if (!inHalf) {
      nodes.push({ ...node, inputs });
      continue;
    }
    const attrs = node.opType === 'Cast' && node.attrs.to?.kind === 'int' && node.attrs.to.value === FLOAT ? { ...node.attrs, to: { kind: 'int' as const, value: HALF } } : node.attrs;
    const renamed = node.outputs.map((o) => (floats.has(o) && outputs.has(o) ? unique(`${o}_fp16`) : o));
    const rewritten: Node = { ...node, inputs, outputs: renamed, attrs };
    nodes.push(rewritten);
    half.push(rewritten);
    node.outputs.forEach((o, i) => {
      if (!floats.has(o)) return;
      halfValues.add(renamed[i]);
      if (renamed[i] === o) return;
      // A graph output: consumers read the float16 value, the graph returns it as float32 under its name.
      asHalf.set(o, renamed[i]);
      nodes.push({ name: unique(`Cast_${o}`), opType: 'Cast', domain: '', inputs: [renamed[i]], outputs: [o], attrs: { to: { kind: 'int', value: FLOAT } } });
    });
  }
  return { graph: { ...graph, nodes }, half };
}
