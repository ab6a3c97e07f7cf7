// Benchmark (not a test): Paddock's training step against PyTorch's on the CPU, the same ResNet,
// batch, image size and threads, measured in the same run. Each side runs in its own process
// (bench/paddock-step.ts, bench/torch_reference.py) so that each peak resident memory is its own.
// Prints images/s (median step after warm-up), the speed ratio (> 1: Paddock is faster), the
// memory ratio, and where Paddock's step spends its time (bench/profile-step.ts).
// PyTorch: Debian's /usr/bin/python3 with python3-torch (not the pyenv python3 first on PATH).
// Usage: npx tsx bench/train-step.ts [arch=resnet18] [size=128] [batches=32,64] [steps=10] [threads=2] [profile=1]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { architectures } from '@paddock/learner';

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

const hasTorch = existsSync(PYTHON) && (() => { try { execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (!hasTorch) console.log(`${PYTHON} has no torch (apt install python3-torch): Paddock's side only`);
console.log(`${arch}, ${size}×${size}, ${threads} threads, median of ${steps} steps after warm-up`);
for (const batch of batches.split(',')) {
  const args = [size, batch, steps, threads];
  const ours = JSON.parse(tsx('paddock-step.ts', [arch, ...args])) as Side & { compileMs: number };
  const torch = hasTorch ? (JSON.parse(execFileSync(PYTHON, [join(here, 'torch_reference.py'), JSON.stringify(architectures[arch]), ...args], { encoding: 'utf8' })) as Side & { torch: string }) : undefined;
  const ips = (s: Side) => Math.round((Number(batch) * 1000) / s.msPerStep);
  const line = [`batch ${batch}: paddock ${ips(ours)} img/s (${ours.msPerStep} ms/step, min ${ours.minMs}, peak RSS ${ours.peakRssMB} MB, compile ${ours.compileMs} ms)`];
  if (torch) {
    line.push(`pytorch ${torch.torch} ${ips(torch)} img/s (${torch.msPerStep} ms/step, min ${torch.minMs}, peak RSS ${torch.peakRssMB} MB)`);
    line.push(`speed ${(torch.msPerStep / ours.msPerStep).toFixed(2)}× pytorch (target ≥ 0.8), memory ${(ours.peakRssMB / torch.peakRssMB).toFixed(2)}× (target ≤ 1.5)`);
  }
  console.log(line.join('\n  '));
}
if (profile !== '0') process.stdout.write(tsx('profile-step.ts', [arch, size, batches.split(',')[0], threads]));
