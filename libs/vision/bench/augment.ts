// Benchmark (not a test, no timings asserted): the default aug_transforms training graph in
// batches/s, for each resampling formulation, against the same work in PyTorch measured in the
// same run: Debian's /usr/bin/python3 with python3-torch (not the pyenv python3 first on PATH) runs
// bench/augment_torch.py on the same uint8 images with the same thetas and lighting numbers
// (F.grid_sample, bilinear, the spec's padding and align_corners). Each round runs every side back
// to back, ROUNDS times (default 3); each round's ratios and their medians are printed: on a shared
// machine one run's ratio swings with the neighbours' load. CPU ms per batch (all threads) is
// steadier than wall time. Both formulations are timed: 'gather' (the default) and 'gridsample'.
// Usage: [ROUNDS=3] [BATCHES=10] npx tsx bench/augment.ts [batch=64] [in=192] [out=128] [threads=2] [device=cpu]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '@paddock/tensor';
import type { Sampler } from '../src/augment-graph.ts';
import { BatchAugmenter, augTransforms, drawAugmentParams, type AugmentParams } from '../src/index.ts';

const [batch, inSize, outSize, threads] = [64, 192, 128, 2].map((d, i) => Number(process.argv[2 + i] ?? d));
const device = (process.argv[6] ?? 'cpu') as 'cpu' | 'cuda' | 'auto';
const rounds = Number(process.env.ROUNDS ?? 3);
const batches = Number(process.env.BATCHES ?? 10);
const samplers: Sampler[] = ['gather', 'gridsample'];
const PYTHON = '/usr/bin/python3';

const spec = augTransforms({ size: outSize });
const input = { height: inSize, width: inSize };
const r = new Random(0);
const images = Array.from({ length: batch }, () => Uint8Array.from({ length: inSize * inSize * 3 }, () => r.int(256)));
// One warm-up batch, then `batches` timed ones; both sides read the same parameters.
const params: AugmentParams[] = Array.from({ length: batches + 1 }, () => drawAugmentParams(spec, batch, r, input));

const dir = mkdtempSync(join(tmpdir(), 'paddock-augment-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, batch, inputHeight: inSize, inputWidth: inSize }));
writeFileSync(join(dir, 'images.u8'), Buffer.concat(images));
writeFileSync(join(dir, 'params.f32'), Buffer.concat(params.flatMap((p) => [p.theta, p.contrast, p.brightness].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)))));

const torchMissing = !existsSync(PYTHON)
  ? `${PYTHON} not found`
  : (() => {
      try {
        execFileSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
        return undefined;
      } catch {
        return `${PYTHON} has no torch (apt install python3-torch)`;
      }
    })();
if (torchMissing) console.log(`torch: skipped, ${torchMissing}: Paddock's side only`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Side {
  batchesPerSecond: number;
  cpuMsPerBatch: number;
}

/** Our side, one round: a fresh session per formulation, warm-up, then the timed batches. Also
 *  returns the first timed batch's output, to check that both sides computed the same pixels. */
async function ours(sampler: Sampler): Promise<Side & { device: string; first: Float32Array }> {
  const aug = await BatchAugmenter.create(spec, { inputHeight: inSize, inputWidth: inSize }, device, { threads, sampler }).catch((error: Error & { exitCode?: number }) => {
    console.log(error.message); // e.g. --device cuda without CUDA: said in one line, not a stack
    process.exit(error.exitCode ?? 1);
  });
  await aug.run(images, params[0]); // the first run plans memory
  const seconds: number[] = [];
  const cpu: number[] = [];
  let first: Float32Array = new Float32Array();
  for (let i = 1; i <= batches; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const out = await aug.run(images, params[i]);
    const used = process.cpuUsage(c);
    seconds.push((performance.now() - t) / 1000);
    cpu.push((used.user + used.system) / 1000);
    if (i === 1) first = out.data;
  }
  const side = { device: aug.device, batchesPerSecond: 1 / median(seconds), cpuMsPerBatch: median(cpu), first };
  await aug.release();
  return side;
}

/** The torch side on the device ours ran on; undefined (said once) when torch cannot use it. */
let torchUnavailable = torchMissing;
function torch(on: string): (Side & { torch: string }) | undefined {
  if (torchUnavailable) return undefined;
  const side = JSON.parse(execFileSync(PYTHON, [join(import.meta.dirname, 'augment_torch.py'), dir, String(threads), on], { encoding: 'utf8' }));
  if (side.unavailable) console.log(`torch: skipped on ${on}, ${(torchUnavailable = side.unavailable)}`);
  return torchUnavailable ? undefined : side;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const fmt = (s: Side) => `${s.batchesPerSecond.toFixed(2)} batches/s = ${(s.batchesPerSecond * batch).toFixed(0)} images/s, ${s.cpuMsPerBatch.toFixed(0)} CPU ms/batch`;
console.log(`augment: batch ${batch}, ${inSize}² → ${outSize}², ${threads} threads, default aug_transforms (${spec.padMode}, align_corners ${spec.alignCorners}), median of ${batches} batches after 1 warm-up, ${rounds} rounds`);
const results = new Map<string, Side[]>();
const record = (key: string, s: Side) => results.set(key, [...(results.get(key) ?? []), s]);
// Ratios are taken within a round (the sides ran seconds apart, under similar load), then the
// median over rounds; torch runs between the two formulations.
const ratios = new Map<Sampler, { wall: number; cpu: number }[]>(samplers.map((s) => [s, []]));
for (let round = 1; round <= rounds; round++) {
  const line: string[] = [];
  const firsts = new Map<Sampler, Float32Array>();
  const sides = new Map<Sampler, Side>();
  let t: (Side & { torch: string }) | undefined;
  for (const sampler of samplers) {
    const s = await ours(sampler);
    record(sampler, s);
    sides.set(sampler, s);
    firsts.set(sampler, s.first);
    line.push(`${sampler} (${s.device}) ${fmt(s)}`);
    if (!t && (t = torch(s.device))) {
      record('torch', t);
      line.push(`torch ${t.torch} (${s.device}) ${fmt(t)}`);
    }
  }
  if (t) {
    for (const [sampler, s] of sides) ratios.get(sampler)!.push({ wall: s.batchesPerSecond / t.batchesPerSecond, cpu: t.cpuMsPerBatch / s.cpuMsPerBatch });
    line.push(samplers.map((k) => `${k}/torch ${ratios.get(k)!.at(-1)!.wall.toFixed(2)}×`).join(', '));
    if (round === 1) {
      // Same pixels? Every side against torch in float64, on the first timed batch.
      const read = (file: string) => new Float32Array(readFileSync(join(dir, file)).buffer.slice(0));
      const exact = read('torch-out-f64.f32');
      const errors = [...samplers.map((k) => [k, firsts.get(k)!] as const), ['torch', read('torch-out.f32')] as const].map(([k, v]) => `${k} ${maxAbsDiff(v, exact).toExponential(1)}`);
      console.log(`max |output − torch float64| (normalised units): ${errors.join(', ')}`);
    }
  }
  console.log(`round ${round}: ${line.join('; ')}`);
}

const med = (key: string, field: keyof Side) => median(results.get(key)!.map((s) => s[field]));
const best = (key: string) => Math.max(...results.get(key)!.map((s) => s.batchesPerSecond));
console.log(`medians over ${rounds} rounds (best round in brackets):`);
for (const sampler of samplers) {
  const r = ratios.get(sampler)!;
  const vsTorch = r.length === 0 ? '' : `; ${median(r.map((x) => x.wall)).toFixed(2)}× torch's batches/s, ${median(r.map((x) => x.cpu)).toFixed(2)}× its CPU efficiency`;
  console.log(`  ${sampler}: ${med(sampler, 'batchesPerSecond').toFixed(2)} batches/s (${best(sampler).toFixed(2)}), ${med(sampler, 'cpuMsPerBatch').toFixed(0)} CPU ms/batch${vsTorch}`);
}
if (results.has('torch')) console.log(`  torch: ${med('torch', 'batchesPerSecond').toFixed(2)} batches/s (${best('torch').toFixed(2)}), ${med('torch', 'cpuMsPerBatch').toFixed(0)} CPU ms/batch`);
