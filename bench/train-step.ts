// Benchmark (not a test): Paddock's training step against PyTorch's on the CPU, the same ResNet,
// batch, image size and threads, measured in the same run. Each side runs in its own process
// (bench/paddock-step.ts, bench/torch_reference.py) so that each peak resident memory is its own.
// The two sides alternate step by step; prints images/s (median step after warm-up), the speed
// ratio (> 1: Paddock is faster) as the median of the per-pair ratios and as the ratio of the
// fastest steps, the memory ratio, and where Paddock's step spends its time (bench/profile-step.ts).
// PyTorch: Debian's /usr/bin/python3 with python3-torch (not the pyenv python3 first on PATH).
// Usage: npx tsx bench/train-step.ts [arch=resnet18] [size=128] [batches=32,64] [steps=10] [threads=2] [profile=1]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { architectures } from '@paddock/learner';
import { median } from './workload.ts';

const [arch = 'resnet18', size = '128', batches = '32,64', steps = '10', threads = '2', profile = '1'] = process.argv.slice(2);
const PYTHON = '/usr/bin/python3';
const here = import.meta.dirname;
if (!architectures[arch]) throw new Error(`unknown arch "${arch}"; known: ${Object.keys(architectures).join(', ')}`);

/** Runs a bench script under the same tsx loader as this process; returns its stdout. */
const tsx = (script: string, args: string[]) => execFileSync(process.execPath, [...process.execArgv, join(here, script), ...args], { encoding: 'utf8' });

interface Side {
  msPerStep: number;
  minMs: number;
  peakRssMB: number;
}

/** One side as a child process in paired mode: `step()` runs one step there and resolves its ms. */
async function startSide<Result extends Side>(name: string, command: string, args: string[]): Promise<{ step(): Promise<number>; finish(): Promise<Result> }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${name} exited before answering`);
    return value as string;
  };
  const ready = await next();
  if (ready !== 'ready') throw new Error(`${name}: expected "ready", got ${JSON.stringify(ready)}`);
  return {
    async step() {
      child.stdin!.write('step\n');
      const answer = await next();
      const ms = Number(answer);
      if (!Number.isFinite(ms)) throw new Error(`${name}: expected a step's milliseconds, got ${JSON.stringify(answer)}`);
      return ms;
    },
    async finish() {
      child.stdin!.end('end\n');
      return JSON.parse(await next()) as Result;
    },
  };
}

const hasTorch = existsSync(PYTHON) && (() => { try { execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (!hasTorch) console.log(`${PYTHON} has no torch (apt install python3-torch): Paddock's side only`);
console.log(`${arch}, ${size}×${size}, ${threads} threads, ${steps} steps after warm-up, the two sides alternating step by step`);
/** One step on a side, then a pause that lets its spinning threads go idle before the other's. */
async function timed(side: { step(): Promise<number> }): Promise<number> {
  const ms = await side.step();
  await new Promise((r) => setTimeout(r, 100));
  return ms;
}
for (const batch of batches.split(',')) {
  const args = [size, batch, steps, threads, 'paired'];
  const ours = await startSide<Side & { compileMs: number }>('paddock-step.ts', process.execPath, [...process.execArgv, join(here, 'paddock-step.ts'), arch, ...args]);
  const torch = hasTorch ? await startSide<Side & { torch: string }>('torch_reference.py', PYTHON, [join(here, 'torch_reference.py'), JSON.stringify(architectures[arch]), ...args]) : undefined;
  // Paired steps: a neighbour's load changes slowly against one step, so it lands on both sides
  // of a pair; the median of the per-pair ratios is far steadier than a ratio of two medians.
  // The side that goes first alternates from pair to pair, so neither always follows the other.
  const ratios: number[] = [];
  for (let i = 0; i < Number(steps); i++) {
    if (!torch) {
      await timed(ours);
      continue;
    }
    const first = i % 2 === 0 ? await timed(ours) : await timed(torch);
    const second = i % 2 === 0 ? await timed(torch) : await timed(ours);
    ratios.push(i % 2 === 0 ? second / first : first / second);
  }
  const [o, t] = [await ours.finish(), await torch?.finish()];
  const ips = (s: Side) => Math.round((Number(batch) * 1000) / s.msPerStep);
  const line = [`batch ${batch}: paddock ${ips(o)} img/s (${o.msPerStep} ms/step, min ${o.minMs}, peak RSS ${o.peakRssMB} MB, compile ${o.compileMs} ms)`];
  if (t) {
    line.push(`pytorch ${t.torch} ${ips(t)} img/s (${t.msPerStep} ms/step, min ${t.minMs}, peak RSS ${t.peakRssMB} MB)`);
    line.push(`speed ${median(ratios).toFixed(2)}× pytorch, median of ${ratios.length} paired steps (pairs ${ratios.map((r) => r.toFixed(2)).join(' ')}; ratio of minima ${(t.minMs / o.minMs).toFixed(2)}×; target ≥ 0.8), memory ${(o.peakRssMB / t.peakRssMB).toFixed(2)}× (target ≤ 1.5)`);
  }
  console.log(line.join('\n  '));
}
if (profile !== '0') process.stdout.write(tsx('profile-step.ts', [arch, size, batches.split(',')[0], threads]));
