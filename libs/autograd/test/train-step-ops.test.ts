// Training-step mechanics beyond the fixtures: exporter shape sub-graphs folded away, in-graph
// training-mode Dropout, and unsupported ops failing at build time with the model file named.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, UnsupportedOpError, encodeModel, foldConstants, loadModel } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
import { buildTrainStep, differentiate } from '../src/index.ts';
import { fixturesDir, haveFixtures } from './fixtures.ts';

function tinyNet(extra: (b: GraphBuilder, x: string) => string) {
  const b = new GraphBuilder('tiny');
  const x = b.input('input', 'float32', ['N', 6]);
  const w = b.initializer('fc.weight', tensor('float32', [3, 6], Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + 1))));
  b.opN('Gemm', [extra(b, x), w], { transB: 1 }, { outputs: ['logits'] });
  b.output('logits', 'float32', ['N', 3]);
  return b.build();
}

describe('train-step graph building', () => {
  it.skipIf(!haveFixtures)("folds fastai's view(x.size(0), -1) sub-graph to a constant shape", () => {
    const model = loadModel(join(fixturesDir, 'train-step/fastai-head/model.onnx'));
    const folded = foldConstants(model.graph, { N: 4 });
    expect(folded.nodes.some((n) => ['Shape', 'Gather', 'Unsqueeze', 'Concat'].includes(n.opType) && n.outputs.some((o) => o.includes('1.1/')))).toBe(false);
    const reshape = folded.nodes.find((n) => n.opType === 'Reshape')!;
    const shape = folded.nodes.find((n) => n.outputs[0] === reshape.inputs[1])!;
    expect(shape.opType).toBe('Constant');
    const value = (shape.attrs.value as { kind: 'tensor'; value: { data: BigInt64Array } }).value.data;
    expect(Array.from(value, Number)).toEqual([4, -1]);
    const step = buildTrainStep(model, { batchSize: 4, optimizer: 'none' });
    expect(step.model.graph.nodes.some((n) => n.opType === 'Shape')).toBe(false);
  });

  it('in-graph Dropout: a fresh mask every run, kept values scaled by 1/(1-p), gradient through the mask', async () => {
    const model = tinyNet((b, x) => b.op('Dropout', [x, b.constant(tensor('float32', [], Float32Array.of(0.5)))]));
    const step = buildTrainStep(model, { batchSize: 64, optimizer: 'none', inputGradient: true, seed: 3 });
    expect(step.dropoutMasks).toEqual([]);
    const session = await ort.InferenceSession.create(encodeModel(step.model));
    const x = new Float32Array(64 * 6).fill(1);
    const feeds = {
      input: new ort.Tensor('float32', x, [64, 6]),
      labels: new ort.Tensor('int64', new BigInt64Array(64), [64]),
      'fc.weight': new ort.Tensor('float32', step.parameters[0].value.data as Float32Array, [3, 6]),
    };
    const masks: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const out = await session.run(feeds);
      // With x = 1, d loss/d x[n,k] = mask[n,k] · Σ_c dlogits[n,c]·W[c,k]: zero exactly where dropped.
      const gx = out[step.gradInput!].data as Float32Array;
      masks.push(Array.from(gx, (v) => (v === 0 ? 0 : 1)));
    }
    const kept = masks[0].reduce((a, v) => a + v, 0) / masks[0].length;
    expect(kept).toBeGreaterThan(0.35);
    expect(kept).toBeLessThan(0.65);
    expect(masks[0]).not.toEqual(masks[1]);
  });

  it('Dropout with ratio 0 is the identity', () => {
    const model = tinyNet((b, x) => b.op('Dropout', [x, b.constant(tensor('float32', [], Float32Array.of(0)))]));
    const step = buildTrainStep(model, { batchSize: 2, optimizer: 'none' });
    expect(step.model.graph.nodes.some((n) => n.opType === 'RandomUniform' || n.opType === 'Dropout')).toBe(false);
  });

  it('an op without a shape rule fails at build time naming the op, the node and the model file', () => {
    const model = tinyNet((b, x) => b.op('Celu', [x], {}, { name: '/act/Celu' }));
    expect(() => buildTrainStep(model, { batchSize: 2, optimizer: 'adamw', source: 'models/user-export.onnx' })).toThrow(UnsupportedOpError);
    expect(() => buildTrainStep(model, { batchSize: 2, optimizer: 'adamw', source: 'models/user-export.onnx' })).toThrow(/models\/user-export\.onnx: Celu "\/act\/Celu"/);
  });

  it('an op with a shape rule but no gradient rule fails at build time the same way', () => {
    const model = tinyNet((b, x) => b.op('Abs', [x], {}, { name: '/act/Abs' }));
    expect(() => buildTrainStep(model, { batchSize: 2, optimizer: 'adamw', inputGradient: true, source: 'models/user-export.onnx' })).toThrow(/models\/user-export\.onnx: Abs "\/act\/Abs".*no gradient rule for Abs/);
    expect(differentiate).toBeTypeOf('function');
  });

  it('an opset-20 export (Gelu, ReduceMean/Split/Pad in their opset-18 forms) trains as opset 17 with the same logits', async () => {
    const b = new GraphBuilder('opset20');
    const x = b.input('input', 'float32', ['N', 4, 3, 3]);
    let y = b.op('ReduceMean', [b.op('Gelu', [x]), b.int64s([2, 3])], { keepdims: 0 });
    y = b.op('Pad', [y, b.int64s([1, 1]), '', b.int64s([1])], { mode: 'constant' });
    const [p, q] = b.opN('Split', [y], { axis: 1, num_outputs: 2 }, { outputs: 2 });
    y = b.op('Gelu', [b.op('Add', [p, q])], { approximate: 'tanh' });
    const w = b.initializer('fc.weight', tensor('float32', [3, 3], Float32Array.from({ length: 9 }, (_, i) => Math.cos(i))));
    b.opN('Gemm', [y, w], { transB: 1 }, { outputs: ['logits'] });
    b.output('logits', 'float32', ['N', 3]);
    const model = b.build({ opset: 20 });
    const step = buildTrainStep(model, { batchSize: 2, optimizer: 'none', inputGradient: true });
    expect(step.model.graph.nodes.some((n) => n.opType === 'Gelu')).toBe(false);
    const input = new ort.Tensor('float32', Float32Array.from({ length: 72 }, (_, i) => Math.sin(i * 0.7) * 2), [2, 4, 3, 3]);
    const original = await ort.InferenceSession.create(encodeModel(model));
    const expected = (await original.run({ input })).logits.data as Float32Array;
    const session = await ort.InferenceSession.create(encodeModel(step.model));
    const out = await session.run({ input, labels: new ort.Tensor('int64', BigInt64Array.of(0n, 2n), [2]), 'fc.weight': new ort.Tensor('float32', step.parameters[0].value.data as Float32Array, [3, 3]) });
    const actual = out[step.logits].data as Float32Array;
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect((out[step.gradInput!].data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});

