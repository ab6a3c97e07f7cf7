// Benchmark (not a test, no timings asserted): presize throughput in images/s, as ratios to
// references measured in the same run on the same files — a bare sharp pipeline (file → rotate →
// resize → raw) and, when Debian's python3-pil is installed, Pillow with the same thread count —
// plus the presize cache (cold fill, warm read). Each measurement is repeated ROUNDS times (default
// 5) with presize and Pillow run back to back, in alternating order, and the medians printed: on a
// shared machine one run's ratio swings by 2× with the neighbours' load.
// Usage: UV_THREADPOOL_SIZE=2 [ROUNDS=5] npx tsx bench/presize.ts [threads=2] [dataset folders…]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { PresizeSpec } from '@paddock/vision';
import { PresizeCache, presizeItems } from '../src/index.ts';

const threads = Number(process.argv[2] ?? 2);
const shared = join(import.meta.dirname, '../../../../shared/datasets');
const datasets = process.argv.length > 3 ? process.argv.slice(3).map((d) => resolve(d)) : ['rice-leaf', 'ants-bees'].map((d) => join(shared, d));
sharp.concurrency(1); // one libvips thread per image
// `threads` WebAssembly threads for baseline JPEGs (with presizeItems' default of four files in
// flight each), libuv's pool (UV_THREADPOOL_SIZE) for the other files' native decoders.
const rounds = Number(process.env.ROUNDS ?? 5);
const pillow = ['/usr/bin/python3'].find((p) => existsSync(p) && (() => { try { execFileSync(p, ['-c', 'import PIL'], { stdio: 'ignore' }); return true; } catch { return false; } })());

function listImages(dir: string): string[] {
  const root = join(dir, 'train_images');
  return readdirSync(root).sort().flatMap((label) => (statSync(join(root, label)).isDirectory() ? readdirSync(join(root, label)).sort().map((f) => join(root, label, f)) : []));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Images/s (wall clock) and CPU ms per image (this process, all threads: steadier under load). */
async function measure(files: string[], run: () => Promise<unknown>): Promise<{ perSecond: number; cpuMs: number }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  await run();
  const used = process.cpuUsage(cpu);
  return { perSecond: files.length / ((performance.now() - t) / 1000), cpuMs: (used.user + used.system) / 1000 / files.length };
}

async function rate(files: string[], run: () => Promise<unknown>): Promise<number> {
  return (await measure(files, run)).perSecond;
}

async function bareSharp(files: string[], size: number, fit: 'fill' | 'cover'): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++];
      await sharp(await readFile(f)).rotate().resize(size, size, { fit, kernel: 'linear' }).removeAlpha().raw().toBuffer();
    }
  };
  await Promise.all(Array.from({ length: threads }, worker));
}

/** pillow-presize.py on the listed files: its timing as JSON, or nothing when it dumps pixels. */
function runPillow(listFile: string, spec: PresizeSpec, dump?: string): string {
  return execFileSync(pillow!, [join(import.meta.dirname, 'pillow-presize.py'), listFile, String(spec.size), spec.method!, String(threads), ...(dump ? [dump] : [])], { encoding: 'utf8' });
}

/** How far presize's pixels are from fastai's (Pillow's crop → resize) on these files. */
async function pixelsAgainstFastai(files: string[], spec: PresizeSpec, listFile: string): Promise<string> {
  const dump = join(tmp, 'fastai.raw');
  runPillow(listFile, spec, dump);
  const want = readFileSync(dump);
  const ours = await presizeItems(files, spec, 'centre', { threads });
  let [max, sum, identical] = [0, 0, 0];
  ours.forEach((image, k) => {
    let imageMax = 0;
    for (let i = 0; i < image.length; i++) {
      const d = Math.abs(image[i] - want[k * image.length + i]);
      sum += d;
      imageMax = Math.max(imageMax, d);
    }
    max = Math.max(max, imageMax);
    if (imageMax === 0) identical++;
  });
  return `pixels against fastai's on ${files.length} files: mean |Δ| ${(sum / (ours.length * ours[0].length)).toFixed(3)}, max ${max}, ${identical} identical`;
}

const tmp = mkdtempSync(join(tmpdir(), 'paddock-bench-'));
for (const dir of datasets) {
  if (!existsSync(dir)) {
    console.log(`${dir}: not here, skipped`);
    continue;
  }
  const files = listImages(dir);
  const listFile = join(tmp, 'files.txt');
  writeFileSync(listFile, files.join('\n'));
  await presizeItems(files.slice(0, 20), { size: 64, method: 'squish' }, 'centre', { threads }); // warm-up (starts the threads)
  for (const [label, spec, fit] of [['squish 480', { size: 480, method: 'squish' }, 'fill'], ['crop 224', { size: 224, method: 'crop' }, 'cover']] as [string, PresizeSpec, 'fill' | 'cover'][]) {
    const size = spec.size as number;
    const runs: Record<'bare' | 'presize' | 'pillow' | 'ratio' | 'cpuRatio', number[]> = { bare: [], presize: [], pillow: [], ratio: [], cpuRatio: [] };
    const pillowRound = () => JSON.parse(runPillow(listFile, spec)) as { imagesPerSecond: number; cpuMsPerImage: number };
    for (let r = 0; r < rounds; r++) {
      runs.bare.push(await rate(files, () => bareSharp(files, size, fit)));
      // Pillow goes first in every other round (marked * in the output): on a 2-core VM, Pillow ran
      // 415 images/s alone and 305 straight after a presize run, whether its memory was freed or kept.
      const pillowFirst = pillow && r % 2 === 1 ? pillowRound() : undefined;
      const ours = await measure(files, () => presizeItems(files, spec, 'centre', { threads }));
      runs.presize.push(ours.perSecond);
      if (!pillow) continue;
      const out = pillowFirst ?? pillowRound();
      runs.pillow.push(out.imagesPerSecond);
      runs.ratio.push(ours.perSecond / out.imagesPerSecond);
      runs.cpuRatio.push(out.cpuMsPerImage / ours.cpuMs);
    }
    const parity = pillow ? await pixelsAgainstFastai(files.slice(0, 100), spec, listFile) : '';
    const cache = new PresizeCache(join(tmp, `cache-${label.replace(' ', '-')}`));
    const cold = await rate(files, () => presizeItems(files, spec, 'centre', { threads, cache }));
    const warm = await rate(files, () => presizeItems(files, spec, 'centre', { threads, cache }));
    const [bare, paddock, pil, ratio, cpuRatio] = [runs.bare, runs.presize, runs.pillow, runs.ratio, runs.cpuRatio].map(median);
    const pillowText = pillow
      ? `, Pillow ${pil.toFixed(0)}/s → presize ${ratio.toFixed(2)}× Pillow (per round: ${runs.ratio.map((x, r) => `${x.toFixed(2)}${r % 2 === 1 ? '*' : ''}`).join(' ')}; by CPU time per image ${cpuRatio.toFixed(2)}×); ${parity}`
      : '';
    console.log(
      `${dir.split('/').pop()} (${files.length} files) ${label}, ${threads} threads, median of ${rounds}: bare sharp ${bare.toFixed(0)}/s, presize ${paddock.toFixed(0)}/s (${(paddock / bare).toFixed(2)}× bare sharp)${pillowText}; cache cold ${cold.toFixed(0)}/s, warm ${warm.toFixed(0)}/s (${(warm / paddock).toFixed(1)}× uncached)`,
    );
  }
}
rmSync(tmp, { recursive: true, force: true });
