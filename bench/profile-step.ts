// Where a training step's time goes: runs the compiled step with onnxruntime's profiler and sums
// the kernel time per op type. Usage: npx tsx bench/profile-step.ts [arch] [size] [batch]
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { buildTrainStep, adamwFeeds } from '@paddock/autograd';
import { architectures, resnet } from '@paddock/learner';
import { encodeModel } from '@paddock/onnx';

const [arch = 'resnet-small', sizeArg = '128', batchArg = '32'] = process.argv.slice(2);
const size = Number(sizeArg);
const n = Number(batchArg);
const model = resnet({ ...architectures[arch], classes: 4, seed: 0 }, { channels: 3, height: size, width: size });
const step = buildTrainStep(model, { batchSize: n, optimizer: 'adamw' });
const session = await ort.InferenceSession.create(encodeModel(step.model), { graphOptimizationLevel: 'all', executionMode: 'sequential', enableProfiling: true, profileFilePrefix: '/tmp/paddock-profile' });
const feeds: Record<string, ort.Tensor> = {
  [step.input]: new ort.Tensor('float32', Float32Array.from({ length: n * 3 * size * size }, (_, i) => Math.sin(i)), [n, 3, size, size]),
  [step.labels]: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 4)), [n]),
};
for (const p of step.parameters) {
  feeds[p.name] = new ort.Tensor('float32', p.value.data as Float32Array, p.value.shape as number[]);
  for (const s of p.states) feeds[s.input] = new ort.Tensor('float32', new Float32Array(p.value.data.length), p.value.shape as number[]);
}
for (const s of step.runningStats) feeds[s.input] = new ort.Tensor('float32', s.value.data as Float32Array, s.value.shape as number[]);
const hp = adamwFeeds({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 }, 1);
for (const inputs of step.hyperGroups.values()) inputs.forEach((name, i) => (feeds[name] = new ort.Tensor('float32', Float32Array.of(hp[i]), [])));
for (let i = 0; i < 4; i++) await session.run(feeds);
session.endProfiling();
// onnxruntime-node does not return the file name: take the newest file with our prefix.
const file = readdirSync('/tmp').filter((f) => f.startsWith('paddock-profile')).map((f) => `/tmp/${f}`).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
rmSync(file);
// Convolutions by role: forward, input gradient (dX) or weight gradient (dW, reads a Transpose).
const producers = new Map(step.model.graph.nodes.flatMap((node) => node.outputs.map((o) => [o, node] as const)));
const forwardNodes = new Set(model.graph.nodes.map((node) => node.name));
const role = (name: string): string => {
  const node = step.model.graph.nodes.find((x) => x.name === name);
  if (!node || node.opType !== 'Conv') return '';
  if (forwardNodes.has(name)) return ' (forward)';
  return producers.get(node.inputs[1])?.opType === 'Transpose' && producers.get(node.inputs[0])?.opType !== 'Slice' && producers.get(node.inputs[0])?.opType === 'Transpose' ? ' (dW)' : ' (dX)';
};
const byOp = new Map<string, number>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const op = (e.args?.op_name ?? '?') + role(e.name.replace(/_kernel_time$/, ''));
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 4000);
  total += e.dur / 4000;
}
const rows = [...byOp].sort((a, b) => b[1] - a[1]);
console.log(`${arch} ${size}px batch ${n}: ${total.toFixed(0)} ms of kernels per step, ${step.model.graph.nodes.length} nodes`);
for (const [op, ms] of rows.slice(0, 15)) console.log(`${op.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)} %`);
