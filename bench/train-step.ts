// Benchmark: ms per training step of Paddock's built-in architectures (CPU), at given sizes.
// Usage: npx tsx bench/train-step.ts [arch] [size] [batch] [steps]
import { Learner, architectures, resnet } from '@paddock/learner';
import { tensor } from '@paddock/tensor';

const [arch = 'resnet-small', sizeArg = '128', batchArg = '32', stepsArg = '5'] = process.argv.slice(2);
const size = Number(sizeArg);
const batchSize = Number(batchArg);
const steps = Number(stepsArg);
const model = resnet({ ...architectures[arch], classes: 4, seed: 0 }, { channels: 3, height: size, width: size });
const images = tensor('float32', [batchSize, 3, size, size], Float32Array.from({ length: batchSize * 3 * size * size }, (_, i) => Math.sin(i)));
const labels = tensor('int64', [batchSize], BigInt64Array.from({ length: batchSize }, (_, i) => BigInt(i % 4)));
const dls = {
  batchSize,
  classes: 4,
  trainBatches: steps,
  async *train() {
    for (let i = 0; i < steps; i++) yield { images, labels };
  },
  async *valid() {},
};
const t0 = performance.now();
const learn = await Learner.create(model, dls);
const t1 = performance.now();
await learn.engine.trainBatch(images, labels, () => ({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }));
const t2 = performance.now();
for (let i = 0; i < steps; i++) await learn.engine.trainBatch(images, labels, () => ({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }));
const t3 = performance.now();
const ms = (t3 - t2) / steps;
console.log(JSON.stringify({ arch, size, batchSize, compileMs: Math.round(t1 - t0), firstStepMs: Math.round(t2 - t1), msPerStep: Math.round(ms), imagesPerSecond: Math.round((batchSize * 1000) / ms) }));
