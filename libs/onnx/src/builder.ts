// GraphBuilder: the one way Paddock writes ONNX graphs (models, training steps, augmentation).
// Values are named strings; op() appends a node and returns its output names, so graph code
// reads top to bottom like the computation it describes.
import { tensor, type DType, type Tensor } from '@paddock/tensor';
import { onnxDataType } from './codec.ts';
import type { AttrValue, Dim, Graph, Model, Node, ValueInfo } from './ir.ts';

/** Attribute shorthand: integral numbers become INT, other numbers FLOAT; use float()/floats()
 *  where ONNX wants a float that happens to be integral (e.g. Gemm alpha = 1). */
export type AttrInput = number | number[] | string | string[] | Tensor | AttrValue;

export const float = (value: number): AttrValue => ({ kind: 'float', value });
export const floats = (value: number[]): AttrValue => ({ kind: 'floats', value });
export const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });

function isAttrValue(v: unknown): v is AttrValue {
  return typeof v === 'object' && v !== null && 'kind' in v && 'value' in v;
}

export function toAttr(v: AttrInput): AttrValue {
  if (isAttrValue(v)) return v;
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return { kind: 'strings', value: v as string[] };
    const nums = v as number[];
    return nums.every(Number.isInteger) ? { kind: 'ints', value: nums } : { kind: 'floats', value: nums };
  }
  return { kind: 'tensor', value: v };
}

export interface OpOptions {
  /** Output count, or explicit output names. Default 1. */
  outputs?: number | string[];
  name?: string;
  domain?: string;
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers = new Map<string, Tensor>();
  /** Names handed out or in use (for fresh()). */
  private readonly used = new Set<string>();
  /** Names some input, initializer or node output already defines (a second definition is a bug). */
  private readonly defined = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'graph', private readonly prefix = '') {}

  /** Start from an existing graph: its nodes, inputs, outputs and initializers are kept. */
  static from(graph: Graph, prefix = ''): GraphBuilder {
    const b = new GraphBuilder(graph.name, prefix);
    b.nodes.push(...graph.nodes);
    b.inputs.push(...graph.inputs);
    b.outputs.push(...graph.outputs);
    for (const [k, v] of graph.initializers) b.initializers.set(k, v);
    const define = (name: string) => (b.used.add(name), b.defined.add(name));
    for (const n of graph.nodes) {
      b.used.add(n.name);
      n.outputs.forEach(define);
    }
    graph.inputs.forEach((v) => define(v.name));
    graph.initializers.forEach((_, k) => define(k));
    return b;
  }

  /** A name no value or node in this graph has yet. */
  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}${hint}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.defined.has(name)) throw new Error(`graph "${this.name}": the value "${name}" is already defined`);
    this.used.add(name);
    this.defined.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: Dim[]): string {
    this.inputs.push({ name: this.claim(name), dtype, shape: [...shape] });
    return name;
  }

  output(name: string, dtype: DType = 'float32', shape: Dim[] = []): string {
    this.outputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  initializer(name: string, value: Tensor): string {
    this.initializers.set(this.claim(name), value);
    return name;
  }

  /** A constant value (stored as an initializer, which ORT folds). */
  constant(value: Tensor, hint = 'const'): string {
    const name = this.claim(this.fresh(hint));
    this.initializers.set(name, value);
    return name;
  }

  scalar(value: number, hint = 'scalar'): string {
    return this.constant(tensor('float32', [], Float32Array.of(value)), hint);
  }

  int64s(values: number[], hint = 'ints'): string {
    return this.constant(tensor('int64', [values.length], BigInt64Array.from(values.map(BigInt))), hint);
  }

  /** Append a node; returns its first output. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrInput | undefined> = {}, options: OpOptions = {}): string {
    return this.opN(opType, inputs, attrs, options)[0];
  }

  /** Append a node; returns all its outputs. Inputs may be '' for an omitted optional input. */
  opN(opType: string, inputs: string[], attrs: Record<string, AttrInput | undefined> = {}, options: OpOptions = {}): string[] {
    const nodeName = options.name ?? this.fresh(opType);
    const outs = options.outputs ?? 1;
    const outputs = (typeof outs === 'number' ? Array.from({ length: outs }, (_, i) => this.fresh(`${opType}_out${i}`)) : outs).map((o) => this.claim(o));
    const converted: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) converted[k] = toAttr(v);
    this.nodes.push({ name: nodeName, opType, domain: options.domain ?? '', inputs, outputs, attrs: converted });
    return outputs;
  }

  /** Append a node writing to names that already exist (graph rewriting: a lowered op keeps
   *  the output names its consumers read). */
  emit(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrInput | undefined> = {}): void {
    const converted: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) converted[k] = toAttr(v);
    outputs.forEach((o) => (this.used.add(o), this.defined.add(o)));
    this.nodes.push({ name: this.fresh(opType), opType, domain: '', inputs, outputs, attrs: converted });
  }

  /** Cast shorthand with a Paddock dtype. */
  cast(x: string, to: DType): string {
    return this.op('Cast', [x], { to: onnxDataType(to) });
  }

  graph(): Graph {
    return { name: this.name, nodes: [...this.nodes], inputs: [...this.inputs], outputs: [...this.outputs], initializers: new Map(this.initializers), valueInfo: [] };
  }

  build(options: { opset?: number; metadata?: Record<string, string>; extraOpsets?: { domain: string; version: number }[] } = {}): Model {
    return {
      irVersion: 8,
      opsets: [{ domain: '', version: options.opset ?? 17 }, ...(options.extraOpsets ?? [])],
      producerName: 'paddock',
      graph: this.graph(),
      metadata: options.metadata ?? {},
    };
  }
}
