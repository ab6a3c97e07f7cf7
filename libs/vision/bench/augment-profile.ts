// Benchmark helper (not a test): where the augmentation graph's time goes, per node, from
// onnxruntime's own profile — the fastest of the runs after warm-up, in graph order, with each
// node's output shape. Use it to compare formulations op by op (bench/augment.ts times them whole).
// Usage: npx tsx bench/augment-profile.ts [sampler=gather|gridsample] [batch=64] [in=192] [out=128] [threads=2]
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random, tensor } from '@paddock/tensor';
import { encodeModel } from '@paddock/onnx';
import { createSession, toOrt } from '@paddock/runtime';
import type { Sampler } from '../src/augment-graph.ts';
import { augTransforms, buildAugmentGraph, drawAugmentParams } from '../src/index.ts';

const sampler = (process.argv[2] ?? 'gather') as Sampler;
const [batch, inSize, outSize, threads] = [64, 192, 128, 2].map((d, i) => Number(process.argv[3 + i] ?? d));
const runs = 12;
const spec = augTransforms({ size: outSize });
const r = new Random(0);
const images = Uint8Array.from({ length: batch * inSize * inSize * 3 }, () => r.int(256));
const p = drawAugmentParams(spec, batch, r, { height: inSize, width: inSize });
const dir = mkdtempSync(join(tmpdir(), 'paddock-augment-profile-'));
try {
  const model = buildAugmentGraph(spec, { inputHeight: inSize, inputWidth: inSize }, { sampler });
  const session = await createSession(encodeModel(model), { threads, profilePrefix: join(dir, 'profile') });
  const feeds = {
    images: toOrt(tensor('uint8', [batch, inSize, inSize, 3], images)),
    theta: toOrt(tensor('float32', [batch, 3, 3], p.theta)),
    contrast: toOrt(tensor('float32', [batch, 1, 1, 1], p.contrast)),
    brightness: toOrt(tensor('float32', [batch, 1, 1, 1], p.brightness)),
  };
  for (let i = 0; i < runs; i++) await session.session.run(feeds);
  session.session.endProfiling();
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one onnxruntime profile in ${dir}, found ${files.length}`);
  const file = join(dir, files[0]);
  type Event = { cat?: string; name: string; dur: number; args?: { op_name?: string; output_type_shape?: Record<string, number[]>[] } };
  const events = JSON.parse(readFileSync(file, 'utf8')) as Event[];
  const nodes = new Map<string, { op: string; shape: string; times: number[] }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const node = nodes.get(name) ?? { op: e.args?.op_name ?? '?', shape: JSON.stringify(e.args?.output_type_shape?.map((o) => Object.values(o)[0]) ?? []), times: [] };
    node.times.push(e.dur / 1000);
    nodes.set(name, node);
  }
  const wholeRuns = events.filter((e) => e.name === 'model_run').map((e) => e.dur / 1000).slice(1);
  let total = 0;
  console.log(`${sampler}: batch ${batch}, ${inSize}² → ${outSize}², ${threads} threads; fastest of ${runs - 1} runs per node (ms)`);
  for (const [name, node] of nodes) {
    const best = Math.min(...node.times.slice(1));
    total += best;
    if (best >= 0.05) console.log(`${best.toFixed(2).padStart(7)}  ${node.op.padEnd(16)} ${name.padEnd(40)} ${node.shape}`);
  }
  console.log(`${total.toFixed(1).padStart(7)}  sum of nodes; whole runs: fastest ${Math.min(...wholeRuns).toFixed(1)}, median ${wholeRuns.sort((a, b) => a - b)[wholeRuns.length >> 1].toFixed(1)}`);
  await session.session.release();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

