// One side of bench/train-step.ts, in its own process so that its peak memory is its own:
// Paddock's training step (Learner's engine, AdamW) on synthetic images; one JSON line out.
// Usage: npx tsx bench/paddock-step.ts ARCH SIZE BATCH STEPS THREADS
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Learner, architectures, resnet } from '@paddock/learner';
import { tensor } from '@paddock/tensor';
import { CLASSES, WARMUP_STEPS, median, syntheticImage } from './workload.ts';

const [arch, sizeArg, batchArg, stepsArg, threadsArg] = process.argv.slice(2);
const [size, batchSize, steps, threads] = [sizeArg, batchArg, stepsArg, threadsArg].map(Number);
const model = resnet({ ...architectures[arch], classes: CLASSES, seed: 0 }, { channels: 3, height: size, width: size });
const images = tensor('float32', [batchSize, 3, size, size], syntheticImage(batchSize, size));
const labels = tensor('int64', [batchSize], BigInt64Array.from({ length: batchSize }, (_, i) => BigInt(i % CLASSES)));
const dls = { batchSize, classes: CLASSES, trainBatches: 0, async *train() {}, async *valid() {} };
const t0 = performance.now();
const learn = await Learner.create(model, dls, { threads });
const compileMs = performance.now() - t0;
const hyper = () => ({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 });
for (let i = 0; i < WARMUP_STEPS; i++) await learn.engine.trainBatch(images, labels, hyper);
const times: number[] = [];
const timedStep = async () => {
  const t = performance.now();
  await learn.engine.trainBatch(images, labels, hyper);
  times.push(performance.now() - t);
};
if (process.argv[7] === 'paired') {
  // Paired mode (bench/train-step.ts): one step per "step" line on stdin, its ms on stdout, so
  // the two sides alternate step by step and a neighbour's load falls on both alike.
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'step') break;
    await timedStep();
    console.log(times.at(-1)!.toFixed(1));
  }
} else for (let i = 0; i < steps; i++) await timedStep();
const peakRssMB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
console.log(JSON.stringify({ msPerStep: +median(times).toFixed(1), minMs: +Math.min(...times).toFixed(1), compileMs: Math.round(compileMs), peakRssMB: Math.round(peakRssMB) }));
