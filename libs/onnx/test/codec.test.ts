import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readRawTensor, relL2, tensor } from '@paddock/tensor';
import { GraphBuilder, decodeModel, encodeModel, float, inferShapes, loadModel } from '../src/index.ts';

const fixtures = join(import.meta.dirname, '../../../../shared/fixtures');
const resnet = join(fixtures, 'train-step/resnet-basic');

describe('ONNX codec', () => {
  it('builds a graph whose encoding onnxruntime runs with the expected numbers', async () => {
    const b = new GraphBuilder('affine');
    const x = b.input('x', 'float32', [2, 3]);
    const w = b.constant(tensor('float32', [3, 2], Float32Array.of(1, 0, 0, 1, 1, 1)));
    const y = b.op('Gemm', [x, w], { alpha: float(2) });
    b.output(b.op('Relu', [y], {}, { outputs: ['y'] }), 'float32', [2, 2]);
    const model = b.build();
    const again = decodeModel(encodeModel(model));
    expect(again.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu']);
    expect(again.graph.nodes[0].attrs.alpha).toEqual({ kind: 'float', value: 2 });
    const session = await ort.InferenceSession.create(encodeModel(again));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, -4, -5, -6), [2, 3]) });
    // 2 * [[1+3, 2+3], [-4-6, -5-6]] then ReLU
    expect(Array.from(out.y.data as Float32Array)).toEqual([8, 10, 0, 0]);
    expect(inferShapes(again.graph).get('y')?.shape).toEqual([2, 2]);
  });

  it.skipIf(!existsSync(resnet))('round-trips a torch-exported ResNet and keeps its outputs', async () => {
    const model = loadModel(join(resnet, 'model.onnx'));
    expect(model.graph.initializers.size).toBe(102); // 62 parameters + 2 running stats for each of 20 BNs
    const shapes = inferShapes(model.graph, { N: 4 });
    expect(shapes.get(model.graph.outputs[0].name)?.shape).toEqual([4, 10]);
    const session = await ort.InferenceSession.create(encodeModel(model));
    const input = readRawTensor(join(resnet, 'input.bin'), 'float32', [4, 3, 64, 64]).data;
    const expected = readRawTensor(join(resnet, 'logits_eval.bin'), 'float32', [4, 10]).data;
    const out = await session.run({ input: new ort.Tensor('float32', input, [4, 3, 64, 64]) });
    expect(relL2(out[model.graph.outputs[0].name].data as Float32Array, expected)).toBeLessThan(1e-5);
  });
});
