// Benchmark (not a test): presize throughput (images/s) over a Kaggle-layout train_images folder.
// Usage: npx tsx bench/presize.ts [folder=../../../shared/datasets/rice-leaf/train_images] [size=192]
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Random } from '@paddock/tensor';
import type { PresizeSpec } from '@paddock/vision';
import { presizeItems } from '../src/index.ts';

const folder = resolve(process.argv[2] ?? join(import.meta.dirname, '../../../../shared/datasets/rice-leaf/train_images'));
const size = Number(process.argv[3] ?? 192);
const files = readdirSync(folder).sort().flatMap((label) => readdirSync(join(folder, label)).sort().map((f) => join(folder, label, f)));
const specs: [string, PresizeSpec, 'centre' | Random][] = [
  ['squish', { size, method: 'squish' }, 'centre'],
  ['crop, random', { size, method: 'crop' }, new Random(0)],
  ['pad reflection', { size: [size, Math.round(size * 0.75)], method: 'pad', padMode: 'reflection' }, 'centre'],
];
await presizeItems(files.slice(0, 20), specs[0][1], 'centre'); // warm-up: libvips start, code caches
for (const concurrency of [1, 2, 4]) {
  for (const [label, spec, position] of specs) {
    const t = performance.now();
    await presizeItems(files, spec, position, { concurrency });
    const s = (performance.now() - t) / 1000;
    console.log(`${label.padEnd(15)} → ${JSON.stringify(spec.size)}, concurrency ${concurrency}: ${files.length} files in ${s.toFixed(2)} s = ${(files.length / s).toFixed(0)} images/s`);
  }
}
