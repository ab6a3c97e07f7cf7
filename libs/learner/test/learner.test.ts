// The Learner trains a real ResNet built here on a small, learnable, seeded image task, and the
// exported inference model reproduces the engine's eval-mode predictions.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '@paddock/onnx';
import { Learner, architectures, exportInference, resnet, softmaxRows } from '../src/index.ts';
import { loaders, mean, size, std, toBatch } from './tiny.ts';

describe('Learner', () => {
  it('learns bars with fit_one_cycle, records every batch, and exports a model that agrees with it', async () => {
    const dls = loaders(16);
    const model = resnet({ ...architectures['resnet-tiny'], classes: 2, seed: 3 }, { channels: 3, height: size, width: size });
    const learn = await Learner.create(model, dls, { threads: 2 });
    const before = await learn.validate();
    const records = await learn.fitOneCycle(3, 1e-2);
    expect(learn.recorder.losses).toHaveLength(3 * 8);
    expect(learn.recorder.lrs[0]).toBeCloseTo(1e-2 / 25, 10);
    expect(records).toHaveLength(3);
    expect(records[2].validLoss).toBeLessThan(before.loss);
    expect(records[2].errorRate).toBeLessThanOrEqual(0.1);

    const exported = exportInference(learn.trainedModel(), { vocab: ['horizontal', 'vertical'], mean, std, height: size, width: size });
    const session = await ort.InferenceSession.create(encodeModel(exported));
    const { pixels, labels } = dls.validSet;
    const images = new Uint8Array(16 * size * size * 3);
    pixels.slice(0, 16).forEach((p, i) => images.set(p, i * p.length));
    const out = await session.run({ image: new ort.Tensor('uint8', images, [16, size, size, 3]) });
    const engineProbs = softmaxRows(await learn.engine.predict(toBatch(pixels.slice(0, 16), labels.slice(0, 16)).images), 2);
    const probs = out.probabilities.data as Float32Array;
    for (let i = 0; i < probs.length; i++) expect(Math.abs(probs[i] - engineProbs[i])).toBeLessThan(1e-5);
    expect(JSON.parse(exported.metadata['paddock.vocab'])).toEqual(['horizontal', 'vertical']);
  }, 120_000);

  it('gives identical weights for identical seeds', async () => {
    const run = async () => {
      const model = resnet({ ...architectures['resnet-tiny'], classes: 2, seed: 5 }, { channels: 3, height: size, width: size });
      const learn = await Learner.create(model, loaders(16), { threads: 1 });
      await learn.fitOneCycle(1, 1e-2);
      return learn.recorder.losses;
    };
    expect(await run()).toEqual(await run());
  }, 120_000);
});
