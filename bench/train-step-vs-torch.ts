// Benchmark (not a test): ms per training step of Paddock's engine against PyTorch on the same
// ResNet, same batch, same threads, measured in the same run; prints the ratio (> 1 = Paddock
// is faster). Needs Debian's /usr/bin/python3 with python3-torch.
// Usage: npx tsx bench/train-step-vs-torch.ts [size=128] [batch=32] [steps=5]
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Learner, architectures, resnet } from '@paddock/learner';
import { tensor } from '@paddock/tensor';

const [size, batchSize, steps] = (process.argv.slice(2).length ? process.argv.slice(2) : ['128', '32', '5']).map(Number);
const threads = availableParallelism();

async function paddock(): Promise<{ msPerStep: number; forwardMs: number }> {
  const model = resnet({ ...architectures['resnet-small'], classes: 4, seed: 0 }, { channels: 3, height: size, width: size });
  const images = tensor('float32', [batchSize, 3, size, size], Float32Array.from({ length: batchSize * 3 * size * size }, (_, i) => Math.sin(i)));
  const labels = tensor('int64', [batchSize], BigInt64Array.from({ length: batchSize }, (_, i) => BigInt(i % 4)));
  const dls = { batchSize, classes: 4, trainBatches: 0, async *train() {}, async *valid() {} };
  const learn = await Learner.create(model, dls, { threads });
  const hyper = () => ({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 });
  await learn.engine.trainBatch(images, labels, hyper);
  let t = performance.now();
  for (let i = 0; i < steps; i++) await learn.engine.trainBatch(images, labels, hyper);
  const msPerStep = (performance.now() - t) / steps;
  await learn.engine.predict(images);
  t = performance.now();
  for (let i = 0; i < steps; i++) await learn.engine.predict(images);
  return { msPerStep, forwardMs: (performance.now() - t) / steps };
}

const ours = await paddock();
const reference = JSON.parse(execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'torch_reference.py'), String(size), String(batchSize), String(steps), String(threads)], { encoding: 'utf8' }));
console.log(
  JSON.stringify({
    arch: 'resnet-small',
    size,
    batchSize,
    threads,
    paddock: { msPerStep: Math.round(ours.msPerStep), forwardMs: Math.round(ours.forwardMs) },
    pytorch: reference,
    trainSpeedRatio: +(reference.msPerStep / ours.msPerStep).toFixed(2),
    forwardSpeedRatio: +(reference.forwardMs / ours.forwardMs).toFixed(2),
  }),
);
