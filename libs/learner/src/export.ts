// The inference model.onnx a run ships: uint8 NHWC images in (as decoded), class probabilities
// out; normalisation inside the graph and the vocab, normalisation and input size in metadata,
// so any onnxruntime session can use it without Paddock.
import { GraphBuilder, type Model } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';

export interface ExportInfo {
  vocab: string[];
  mean: number[];
  std: number[];
  height: number;
  width: number;
  /** Extra metadata (recipe, presize spec, ...), stored as JSON strings. */
  extra?: Record<string, unknown>;
}

export const inferenceInput = 'image';
export const inferenceOutput = 'probabilities';

export function exportInference(trained: Model, info: ExportInfo): Model {
  const forward = trained.graph;
  const inputName = forward.inputs[0].name;
  const logits = forward.outputs[0].name;
  const b = new GraphBuilder('paddock_inference', 'pre/');
  b.input(inferenceInput, 'uint8', ['N', info.height, info.width, 3]);
  const x = b.op('Transpose', [b.cast(inferenceInput, 'float32')], { perm: [0, 3, 1, 2] });
  const mean = b.constant(tensor('float32', [1, 3, 1, 1], Float32Array.from(info.mean, (m) => m * 255)), 'mean');
  const scale = b.constant(tensor('float32', [1, 3, 1, 1], Float32Array.from(info.std, (s) => 1 / (s * 255))), 'inv_std');
  b.emit('Mul', [b.op('Sub', [x, mean]), scale], [inputName]);
  const nodes = [...b.nodes, ...forward.nodes];
  const initializers = new Map([...b.initializers, ...forward.initializers]);
  const graph = { ...forward, name: 'paddock_inference', nodes, initializers, inputs: b.inputs, outputs: [] };
  const post = GraphBuilder.from(graph, 'post/');
  post.opN('Softmax', [logits], { axis: 1 }, { outputs: [inferenceOutput] });
  post.output(inferenceOutput, 'float32', ['N', info.vocab.length]);
  const metadata: Record<string, string> = {
    ...trained.metadata,
    'paddock.vocab': JSON.stringify(info.vocab),
    'paddock.mean': JSON.stringify(info.mean),
    'paddock.std': JSON.stringify(info.std),
    'paddock.input': JSON.stringify({ name: inferenceInput, layout: 'NHWC', dtype: 'uint8', height: info.height, width: info.width, channels: 3 }),
    'paddock.output': JSON.stringify({ name: inferenceOutput, kind: 'probabilities' }),
  };
  for (const [k, v] of Object.entries(info.extra ?? {})) metadata[`paddock.${k}`] = JSON.stringify(v);
  return { ...trained, graph: post.graph(), metadata };
}
