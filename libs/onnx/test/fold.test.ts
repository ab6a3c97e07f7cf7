// Constant folding of exporter shape sub-graphs for a fixed batch size: the folded graph has no
// shape arithmetic left and computes exactly what the dynamic graph computes.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tensor } from '@paddock/tensor';
import { GraphBuilder, analyseGraph, encodeModel, foldConstants } from '../src/index.ts';

function exporterStyleGraph() {
  const b = new GraphBuilder('dynamic');
  const x = b.input('x', 'float32', ['N', 3, 2, 2]);
  const shape = b.op('Shape', [x]);
  const batch = b.op('Gather', [shape, b.constant(tensor('int64', [], BigInt64Array.of(0n)))], { axis: 0 });
  const hw = b.op('Shape', [x], { start: 2 });
  const area = b.op('Mul', [b.op('Slice', [hw, b.int64s([0]), b.int64s([1])]), b.op('Slice', [hw, b.int64s([1]), b.int64s([2])])]);
  const target = b.op('Concat', [b.op('Unsqueeze', [batch, b.int64s([0])]), b.int64s([3]), area], { axis: 0 });
  const flat = b.op('Reshape', [x, target]);
  // A float tensor of the input's size from the shape: Cast + ConstantOfShape.
  const ones = b.op('ConstantOfShape', [b.op('Cast', [b.op('Cast', [target], { to: 1 })], { to: 7 })], { value: tensor('float32', [1], Float32Array.of(0.5)) });
  b.opN('Add', [flat, ones], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['N', 3, 4]);
  return b.graph();
}

describe('foldConstants', () => {
  it('evaluates Shape/Gather/Slice/Mul/Unsqueeze/Concat/Cast/ConstantOfShape for a fixed batch', async () => {
    const graph = exporterStyleGraph();
    const { folded, types } = analyseGraph(graph, { N: 5 });
    expect(types.get('y')!.shape).toEqual([5, 3, 4]);
    const reshape = graph.nodes.find((n) => n.opType === 'Reshape')!;
    expect(Array.from(folded.get(reshape.inputs[1])!.data as BigInt64Array, Number)).toEqual([5, 3, 4]);
    const out = foldConstants(graph, { N: 5 });
    expect(out.nodes.map((n) => n.opType).sort()).toEqual(['Add', 'Constant', 'Constant', 'Reshape']);

    const x = Float32Array.from({ length: 5 * 12 }, (_, i) => i / 7);
    const run = async (g: typeof graph, shape: (number | string)[]) => {
      const s = await ort.InferenceSession.create(encodeModel({ irVersion: 8, opsets: [{ domain: '', version: 17 }], producerName: 't', metadata: {}, graph: { ...g, inputs: [{ name: 'x', dtype: 'float32', shape }] } }));
      return (await s.run({ x: new ort.Tensor('float32', x, [5, 3, 2, 2]) })).y.data as Float32Array;
    };
    expect(Array.from(await run(out, [5, 3, 2, 2]))).toEqual(Array.from(await run(graph, ['N', 3, 2, 2])));
  });

  it('never folds float arithmetic on initializers (weights stay weights)', () => {
    const b = new GraphBuilder('weights');
    const x = b.input('x', 'float32', [2, 3]);
    const w = b.initializer('w', tensor('float32', [3, 3], new Float32Array(9).fill(1)));
    b.opN('MatMul', [x, b.op('Transpose', [w], { perm: [1, 0] })], {}, { outputs: ['y'] });
    b.output('y', 'float32', [2, 3]);
    expect(foldConstants(b.graph()).nodes.map((n) => n.opType)).toEqual(['Transpose', 'MatMul']);
  });
});
