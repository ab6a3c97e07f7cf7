// The Predictor's float-input variant: export.ts's uint8 → normalised prologue removed, the
// network's own input exposed, and everything else (weights, softmax, metadata) unchanged.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel, saveModel } from '@paddock/onnx';
import { describe, expect, it } from 'vitest';
import { Predictor, architectures, blendTta, exportInference, floatInputModel, resnet } from '../src/index.ts';

const mean = [0.4, 0.5, 0.6];
const std = [0.2, 0.25, 0.3];

function exported() {
  const net = resnet({ ...architectures['resnet-tiny'], classes: 3, seed: 1 }, { channels: 3, height: 8, width: 8 });
  return exportInference(net, { vocab: ['a', 'b', 'c'], mean, std, height: 8, width: 8 });
}

describe('floatInputModel', () => {
  it('takes normalised float NCHW and gives the uint8 model’s probabilities', async () => {
    const model = exported();
    const { model: float, input } = floatInputModel(model);
    expect(input).toBe('input');
    expect(float.graph.nodes.some((n) => n.name.startsWith('pre/'))).toBe(false);
    expect(float.graph.nodes.length).toBe(model.graph.nodes.length - 4); // Cast, Transpose, Sub, Mul
    expect(float.metadata).toEqual(model.metadata);
    const pixels = Uint8Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i * 37) % 256);
    const x = new Float32Array(2 * 3 * 64);
    for (let n = 0; n < 2; n++) for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) x[(n * 3 + c) * 64 + p] = (pixels[(n * 64 + p) * 3 + c] / 255 - mean[c]) / std[c];
    const a = await ort.InferenceSession.create(encodeModel(model));
    const b = await ort.InferenceSession.create(encodeModel(float));
    const pa = (await a.run({ image: new ort.Tensor('uint8', pixels, [2, 8, 8, 3]) })).probabilities.data as Float32Array;
    const pb = (await b.run({ input: new ort.Tensor('float32', x, [2, 3, 8, 8]) })).probabilities.data as Float32Array;
    for (let i = 0; i < 6; i++) expect(Math.abs(pa[i] - pb[i])).toBeLessThan(1e-5);
  });

  it('refuses a model without the prologue', () => {
    const { model: float } = floatInputModel(exported());
    expect(() => floatInputModel(float)).toThrow(/cannot find the normalisation prologue/);
  });
});

describe('Predictor', () => {
  it('refuses TTA for a model without paddock.augment, naming the fix', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'paddock-inference-')), 'model.onnx');
    saveModel(path, exported());
    const p = await Predictor.load(path, { threads: 1 });
    expect(p.augmentSpec).toBeUndefined();
    expect(p.presizeSize).toEqual([8, 8]);
    await expect(p.predictFilesAugmented([path])).rejects.toThrow(/no paddock.augment metadata/);
    const probs = await p.predictNormalized(new Float32Array(3 * 64), 1);
    expect(probs[0] + probs[1] + probs[2]).toBeCloseTo(1, 5);
    await p.release();
  });

  it('blendTta is fastai’s lerp (known values)', () => {
    // mean(aug) = [0.3, 0.7]; 0.75·0.3 + 0.25·0.1 = 0.25
    const out = blendTta(new Float32Array([0.1, 0.9]), [new Float32Array([0.2, 0.8]), new Float32Array([0.4, 0.6])]);
    expect(out[0]).toBeCloseTo(0.25, 6);
    expect(out[1]).toBeCloseTo(0.75, 6);
  });
});
