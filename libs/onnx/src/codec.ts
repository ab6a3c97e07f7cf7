// ONNX protobuf <-> IR. Decoding accepts what torch.onnx.export and other producers write
// (raw_data or typed fields); encoding always writes raw_data, which every runtime reads fastest.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { bytesPerElement, numel, tensor, type DType, type Tensor } from '@paddock/tensor';
import {
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  TensorProto_DataType as DataType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './gen/onnx/onnx_pb.ts';
import type { AttrValue, Graph, Model, Node, ValueInfo } from './ir.ts';

const dtypeToOnnx: Record<DType, DataType> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  uint8: DataType.UINT8,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

export function onnxDataType(dtype: DType): number {
  return dtypeToOnnx[dtype];
}

export function dtypeFromOnnx(code: number, where: string): DType {
  const entry = Object.entries(dtypeToOnnx).find(([, v]) => v === code);
  if (!entry) throw new TypeError(`${where}: ONNX data type ${DataType[code] ?? code} is not supported (float32, float16, uint8, int32, int64 and bool are)`);
  return entry[0] as DType;
}

function decodeTensor(t: TensorProto): Tensor {
  const dtype = dtypeFromOnnx(t.dataType, `tensor "${t.name}"`);
  const shape = t.dims.map(Number);
  const n = numel(shape);
  if (t.rawData.length > 0) {
    const bytes = new Uint8Array(t.rawData); // a copy with its own aligned buffer (rawData may be a Buffer view)
    const expected = n * bytesPerElement(dtype);
    if (bytes.byteLength !== expected) throw new RangeError(`tensor "${t.name}": ${bytes.byteLength} bytes of raw data for shape [${shape}] (${expected} expected)`);
    const b = bytes.buffer;
    const data = {
      float32: () => new Float32Array(b),
      float16: () => new Uint16Array(b),
      uint8: () => new Uint8Array(b),
      bool: () => new Uint8Array(b),
      int32: () => new Int32Array(b),
      int64: () => new BigInt64Array(b),
    }[dtype]();
    return tensor(dtype, shape, data as never);
  }
  switch (dtype) {
    case 'float32':
      return tensor(dtype, shape, Float32Array.from(t.floatData));
    case 'int64':
      return tensor(dtype, shape, BigInt64Array.from(t.int64Data));
    case 'int32':
      return tensor(dtype, shape, Int32Array.from(t.int32Data));
    case 'uint8':
    case 'bool':
      return tensor(dtype, shape, Uint8Array.from(t.int32Data));
    case 'float16':
      return tensor(dtype, shape, Uint16Array.from(t.int32Data));
  }
}

function encodeTensor(name: string, t: Tensor): TensorProto {
  const d = t.data;
  return create(TensorProtoSchema, {
    name,
    dims: t.shape.map(BigInt),
    dataType: dtypeToOnnx[t.dtype],
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  });
}

function decodeAttr(a: AttributeProto, where: string): AttrValue {
  switch (a.type) {
    case AttrType.INT:
      return { kind: 'int', value: Number(a.i) };
    case AttrType.FLOAT:
      return { kind: 'float', value: a.f };
    case AttrType.STRING:
      return { kind: 'string', value: new TextDecoder().decode(a.s) };
    case AttrType.INTS:
      return { kind: 'ints', value: a.ints.map(Number) };
    case AttrType.FLOATS:
      return { kind: 'floats', value: [...a.floats] };
    case AttrType.STRINGS:
      return { kind: 'strings', value: a.strings.map((s) => new TextDecoder().decode(s)) };
    case AttrType.TENSOR:
      return { kind: 'tensor', value: decodeTensor(a.t!) };
    case AttrType.GRAPH:
      return { kind: 'graph', value: decodeGraph(a.g!) };
    default:
      throw new TypeError(`${where}: attribute "${a.name}" has type ${AttrType[a.type] ?? a.type}, which Paddock does not read`);
  }
}

function encodeAttr(name: string, v: AttrValue): AttributeProto {
  const a = create(AttributeProtoSchema, { name });
  switch (v.kind) {
    case 'int':
      a.type = AttrType.INT;
      a.i = BigInt(v.value);
      break;
    case 'float':
      a.type = AttrType.FLOAT;
      a.f = v.value;
      break;
    case 'string':
      a.type = AttrType.STRING;
      a.s = new TextEncoder().encode(v.value);
      break;
    case 'ints':
      a.type = AttrType.INTS;
      a.ints = v.value.map(BigInt);
      break;
    case 'floats':
      a.type = AttrType.FLOATS;
      a.floats = v.value;
      break;
    case 'strings':
      a.type = AttrType.STRINGS;
      a.strings = v.value.map((s) => new TextEncoder().encode(s));
      break;
    case 'tensor':
      a.type = AttrType.TENSOR;
      a.t = encodeTensor('', v.value);
      break;
    case 'graph':
      a.type = AttrType.GRAPH;
      a.g = encodeGraph(v.value);
      break;
  }
  return a;
}

function decodeValueInfo(v: ValueInfoProto): ValueInfo {
  const tt = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  if (!tt) throw new TypeError(`value "${v.name}": only tensor-typed graph inputs and outputs are supported`);
  return {
    name: v.name,
    dtype: dtypeFromOnnx(tt.elemType, `value "${v.name}"`),
    shape: (tt.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : '?')),
  };
}

function encodeValueInfo(v: ValueInfo): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name: v.name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: dtypeToOnnx[v.dtype],
          shape: {
            dim: v.shape.map((d) => ({
              value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d },
            })),
          },
        },
      },
    },
  });
}

function decodeNode(n: NodeProto, index: number): Node {
  const name = n.name || `${n.opType}_${index}`;
  const attrs: Record<string, AttrValue> = {};
  for (const a of n.attribute) attrs[a.name] = decodeAttr(a, `node ${n.opType} "${name}"`);
  return { name, opType: n.opType, domain: n.domain === 'ai.onnx' ? '' : n.domain, inputs: [...n.input], outputs: [...n.output], attrs };
}

function encodeNode(n: Node): NodeProto {
  return create(NodeProtoSchema, {
    input: n.inputs,
    output: n.outputs,
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttr(k, v)),
  });
}

function decodeGraph(g: GraphProto): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer) initializers.set(t.name, decodeTensor(t));
  return {
    name: g.name,
    nodes: g.node.map(decodeNode),
    // Old exporters list initializers among the inputs too; those are not inputs a caller feeds.
    inputs: g.input.filter((v) => !initializers.has(v.name)).map(decodeValueInfo),
    outputs: g.output.map(decodeValueInfo),
    initializers,
    valueInfo: g.valueInfo.flatMap((v) => (v.type?.value.case === 'tensorType' ? [decodeValueInfo(v)] : [])),
  };
}

function encodeGraph(g: Graph): GraphProto {
  return create(GraphProtoSchema, {
    node: g.nodes.map(encodeNode),
    name: g.name,
    initializer: [...g.initializers].map(([name, t]) => encodeTensor(name, t)),
    input: g.inputs.map(encodeValueInfo),
    output: g.outputs.map(encodeValueInfo),
    valueInfo: g.valueInfo.map(encodeValueInfo),
  });
}

export function decodeModel(bytes: Uint8Array, source = 'model'): Model {
  let proto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    throw new Error(`${source}: not a readable ONNX model (${(error as Error).message})`);
  }
  if (!proto.graph) throw new Error(`${source}: the ONNX model has no graph`);
  return {
    irVersion: Number(proto.irVersion),
    opsets: proto.opsetImport.map((o) => ({ domain: o.domain === 'ai.onnx' ? '' : o.domain, version: Number(o.version) })),
    producerName: proto.producerName,
    graph: decodeGraph(proto.graph),
    metadata: Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value])),
  };
}

export function encodeModel(model: Model): Uint8Array {
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: BigInt(model.irVersion),
      opsetImport: model.opsets.map((o) => ({ domain: o.domain, version: BigInt(o.version) })),
      producerName: model.producerName,
      producerVersion: '0.1.0',
      graph: encodeGraph(model.graph),
      metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    }),
  );
}

export function loadModel(path: string): Model {
  return decodeModel(readFileSync(path), path);
}

/** Write atomically: a reader never sees half a model. */
export function saveModel(path: string, model: Model): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeModel(model));
  renameSync(tmp, path);
}
