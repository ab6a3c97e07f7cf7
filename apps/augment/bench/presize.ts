// Benchmark (not a test, no timings asserted): presize throughput in images/s, as ratios to
// references measured in the same run on the same files — a bare sharp pipeline (file → rotate →
// resize → raw) and, when Debian's python3-pil is installed, Pillow with the same thread count —
// plus the presize cache (cold fill, warm read).
// Usage: UV_THREADPOOL_SIZE=2 npx tsx bench/presize.ts [threads=2] [dataset folders…]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { PresizeSpec } from '@paddock/vision';
import { PresizeCache, presizeItems } from '../src/index.ts';

const threads = Number(process.argv[2] ?? 2);
const shared = join(import.meta.dirname, '../../../../shared/datasets');
const datasets = process.argv.length > 3 ? process.argv.slice(3).map((d) => resolve(d)) : ['rice-leaf', 'ants-bees'].map((d) => join(shared, d));
sharp.concurrency(1); // one libvips thread per image; `threads` images in flight
const pillow = ['/usr/bin/python3'].find((p) => existsSync(p) && (() => { try { execFileSync(p, ['-c', 'import PIL'], { stdio: 'ignore' }); return true; } catch { return false; } })());

function listImages(dir: string): string[] {
  const root = join(dir, 'train_images');
  return readdirSync(root).sort().flatMap((label) => (statSync(join(root, label)).isDirectory() ? readdirSync(join(root, label)).sort().map((f) => join(root, label, f)) : []));
}

async function rate(files: string[], run: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await run();
  return files.length / ((performance.now() - t) / 1000);
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

const tmp = mkdtempSync(join(tmpdir(), 'paddock-bench-'));
for (const dir of datasets) {
  if (!existsSync(dir)) {
    console.log(`${dir}: not here, skipped`);
    continue;
  }
  const files = listImages(dir);
  const listFile = join(tmp, 'files.txt');
  writeFileSync(listFile, files.join('\n'));
  await presizeItems(files.slice(0, 20), { size: 64, method: 'squish' }, 'centre'); // warm-up
  for (const [label, spec, fit] of [['squish 480', { size: 480, method: 'squish' }, 'fill'], ['crop 224', { size: 224, method: 'crop' }, 'cover']] as [string, PresizeSpec, 'fill' | 'cover'][]) {
    const size = spec.size as number;
    const reference = await rate(files, () => bareSharp(files, size, fit));
    const paddock = await rate(files, () => presizeItems(files, spec, 'centre', { concurrency: threads }));
    const cache = new PresizeCache(join(tmp, `cache-${label.replace(' ', '-')}`));
    const cold = await rate(files, () => presizeItems(files, spec, 'centre', { concurrency: threads, cache }));
    const warm = await rate(files, () => presizeItems(files, spec, 'centre', { concurrency: threads, cache }));
    let pil = '';
    if (pillow) {
      const out = JSON.parse(execFileSync(pillow, [join(import.meta.dirname, 'pillow-presize.py'), listFile, String(size), spec.method!, String(threads)], { encoding: 'utf8' }));
      pil = `, Pillow ${out.imagesPerSecond.toFixed(0)}/s → presize ${(paddock / out.imagesPerSecond).toFixed(2)}× Pillow`;
    }
    console.log(
      `${dir.split('/').pop()} (${files.length} files) ${label}, ${threads} threads: bare sharp ${reference.toFixed(0)}/s, presize ${paddock.toFixed(0)}/s (${(paddock / reference).toFixed(2)}× bare sharp)${pil}; cache cold ${cold.toFixed(0)}/s, warm ${warm.toFixed(0)}/s (${(warm / paddock).toFixed(1)}× uncached)`,
    );
  }
}
rmSync(tmp, { recursive: true, force: true });
