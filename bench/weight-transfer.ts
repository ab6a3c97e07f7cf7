// Benchmark (not a test): what carrying the weights and optimizer state through session.run costs
// per training step. The step graph's weights and AdamW state of ARCH are fed to a graph that
// only multiplies each by a scalar and returns it (the same bytes in and out as a training step),
// run three ways: ORT-allocated outputs, pre-allocated outputs (run(feeds, fetches)), and a
// baseline returning only a sum per tensor (the arithmetic without the transfer). It also checks
// whether onnxruntime-node returns the pre-allocated buffer or a copy of it.
// Usage: npx tsx bench/weight-transfer.ts [arch=resnet-small] [threads=2] [runs=15]
import * as ort from 'onnxruntime-node';
import { buildTrainStep } from '@paddock/autograd';
import { GraphBuilder, encodeModel } from '@paddock/onnx';
import { architectures, resnet } from '@paddock/learner';
import { median } from './workload.ts';

const [arch = 'resnet-small', threadsArg = '2', runsArg = '15'] = process.argv.slice(2);
const [threads, runs] = [threadsArg, runsArg].map(Number);
const step = buildTrainStep(resnet({ ...architectures[arch], classes: 10, seed: 0 }, { channels: 3, height: 64, width: 64 }), { batchSize: 2, optimizer: 'adamw' });
const carried = step.parameters.flatMap((p) => [p.value.shape as number[], ...p.states.map(() => p.value.shape as number[])]);
const floats = carried.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

function graph(full: boolean) {
  const b = new GraphBuilder('carry');
  const s = b.input('s', 'float32', []);
  carried.forEach((shape, i) => {
    b.input(`w${i}`, 'float32', shape);
    const y = b.op('Mul', [`w${i}`, s]);
    b.output(full ? y : b.op('ReduceSum', [y], { keepdims: 0 }), 'float32', full ? shape : []);
  });
  return ort.InferenceSession.create(encodeModel(b.build()), { intraOpNumThreads: threads, interOpNumThreads: 1 });
}

const feeds: Record<string, ort.Tensor> = { s: new ort.Tensor('float32', Float32Array.of(1), []) };
carried.forEach((shape, i) => (feeds[`w${i}`] = new ort.Tensor('float32', new Float32Array(shape.reduce((x, y) => x * y, 1)).fill(i), shape)));
const full = await graph(true);
const baseline = await graph(false);
const preallocated = Object.fromEntries(full.outputNames.map((name, i) => [name, new ort.Tensor('float32', new Float32Array((feeds[`w${i}`].data as Float32Array).length), carried[i])]));

async function time(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const out = await full.run(feeds, preallocated);
const first = full.outputNames[0];
const sameBuffer = (out[first].data as Float32Array).buffer === (preallocated[first].data as Float32Array).buffer;
const written = (preallocated[first].data as Float32Array)[0] === (feeds.w0.data as Float32Array)[0];
const [own, pre, base] = [await time(() => full.run(feeds)), await time(() => full.run(feeds, preallocated)), await time(() => baseline.run(feeds))];
console.log(`${arch}: ${carried.length} tensors (weights + AdamW exp_avg, exp_avg_sq), ${(floats * 4 / 2 ** 20).toFixed(1)} MiB in and out per step, ${threads} threads, median of ${runs}`);
console.log(`  ORT-allocated outputs ${own.toFixed(2)} ms, pre-allocated ${pre.toFixed(2)} ms, arithmetic only ${base.toFixed(2)} ms → transfer ≈ ${(own - base).toFixed(2)} ms/step`);
console.log(`  pre-allocated output written: ${written}; returned tensor shares its buffer: ${sameBuffer}${sameBuffer ? '' : ' (the binding copies every output into a new ArrayBuffer, so reuse saves no allocation)'}`);
