// The in-memory ONNX IR Paddock builds and rewrites: plain data (nodes, value infos, initializers
// as Paddock tensors), independent of protobuf, so graph code reads like the ONNX spec.
import type { DType, Tensor } from '@paddock/tensor';

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: Graph };

export interface Node {
  name: string;
  opType: string;
  /** '' for the standard ai.onnx domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A dimension is a number, or a name for a symbolic dimension (e.g. 'N'). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  valueInfo: ValueInfo[];
}

export interface OpsetId {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsets: OpsetId[];
  producerName: string;
  graph: Graph;
  metadata: Record<string, string>;
}

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && (a.kind === 'int' || a.kind === 'float') ? a.value : fallback;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && (a.kind === 'float' || a.kind === 'int') ? a.value : fallback;
}

export function attrInts(node: Node, name: string, fallback: number[] | undefined): number[] | undefined {
  const a = node.attrs[name];
  return a && a.kind === 'ints' ? a.value : fallback;
}

export function attrString(node: Node, name: string, fallback: string): string {
  const a = node.attrs[name];
  return a && a.kind === 'string' ? a.value : fallback;
}

export function opsetVersion(model: Model, domain = ''): number | undefined {
  return model.opsets.find((o) => o.domain === domain || (domain === '' && o.domain === 'ai.onnx'))?.version;
}

/** A short description of a node for error messages: `Conv "/layer1/Conv" (inputs: x, w)`. */
export function describeNode(node: Node): string {
  return `${node.domain ? node.domain + '.' : ''}${node.opType} "${node.name}" (inputs: ${node.inputs.join(', ') || '-'}; outputs: ${node.outputs.join(', ')})`;
}
