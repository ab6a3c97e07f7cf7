// Where a training step's time goes: runs the compiled step in a session made exactly as the
// engine makes it (libs/runtime createSession) with onnxruntime's profiler on, and sums the
// kernel time per op type (Conv split by role). Prints a table; bench/train-step.ts runs it.
// Usage: npx tsx bench/profile-step.ts [arch=resnet18] [size=128] [batch=32] [threads=2]
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { buildTrainStep, adamwFeeds } from '@paddock/autograd';
import { architectures, resnet } from '@paddock/learner';
import { encodeModel } from '@paddock/onnx';
import { createSession } from '@paddock/runtime';
import { CLASSES, syntheticImage } from './workload.ts';

const PROFILED_STEPS = 3;
const [arch = 'resnet18', sizeArg = '128', batchArg = '32', threadsArg = '2'] = process.argv.slice(2);
const [size, n, threads] = [sizeArg, batchArg, threadsArg].map(Number);
const model = resnet({ ...architectures[arch], classes: CLASSES, seed: 0 }, { channels: 3, height: size, width: size });
const step = buildTrainStep(model, { batchSize: n, optimizer: 'adamw' });
const prefix = `/tmp/paddock-profile-${process.pid}`;
const { session } = await createSession(encodeModel(step.model), { threads, profilePrefix: prefix });
const feeds: Record<string, ort.Tensor> = {
  [step.input]: new ort.Tensor('float32', syntheticImage(n, size), [n, 3, size, size]),
  [step.labels]: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % CLASSES)), [n]),
};
for (const p of step.parameters) {
  feeds[p.name] = new ort.Tensor('float32', p.value.data as Float32Array, p.value.shape as number[]);
  for (const s of p.states) feeds[s.input] = new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]);
}
for (const s of step.runningStats) feeds[s.input] = new ort.Tensor('float32', s.value.data as Float32Array, s.value.shape as number[]);
const hp = adamwFeeds({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }, 1);
for (const inputs of step.hyperGroups.values()) inputs.forEach((name, i) => (feeds[name] = new ort.Tensor('float32', Float32Array.of(hp[i]), [])));
await session.run(feeds); // the first run allocates: leave it out of the profile's average
for (let i = 0; i < PROFILED_STEPS; i++) await session.run(feeds);
session.endProfiling();
// onnxruntime-node does not return the file name: take our prefix's newest file.
const file = readdirSync('/tmp').filter((f) => f.startsWith(prefix.slice(5))).map((f) => `/tmp/${f}`).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } }[];
rmSync(file);
const runStarts = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts).sort((a, b) => a - b);
const start = runStarts[1];
const forwardNodes = new Set(model.graph.nodes.map((node) => node.name));
const nodes = new Map(step.model.graph.nodes.map((node) => [node.name, node]));
const role = (name: string): string => {
  const node = nodes.get(name);
  if (!node || !['Conv', 'Gemm', 'MatMul'].includes(node.opType)) return '';
  return forwardNodes.has(name) ? ' (forward)' : ' (backward)';
};
const byOp = new Map<string, { ms: number; count: number }>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
  const op = (e.args?.op_name ?? '?') + role(e.name.replace(/_kernel_time$/, ''));
  const row = byOp.get(op) ?? { ms: 0, count: 0 };
  row.ms += e.dur / 1000;
  row.count += 1;
  byOp.set(op, row);
  total += e.dur / 1000;
}
const perRun = (ms: number) => ms / PROFILED_STEPS;
console.log(`${arch} ${size}px batch ${n}, ${threads} threads: ${perRun(total).toFixed(0)} ms of kernels per step, ${step.model.graph.nodes.length} nodes`);
for (const [op, { ms, count }] of [...byOp].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
  console.log(`  ${op.padEnd(24)} ${perRun(ms).toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${String(count / PROFILED_STEPS).padStart(4)} nodes`);
}
