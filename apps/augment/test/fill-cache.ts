// Child process for the cache test: presize every image of a folder through a shared cache.
// Usage: node --import tsx test/fill-cache.ts IMAGE_DIR CACHE_DIR OUT.json
import { readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Random } from '@paddock/tensor';
import { PresizeCache, presizeItems } from '../src/index.ts';

const [dir, cacheDir, out] = process.argv.slice(2);
const paths = readdirSync(dir).sort().map((f) => join(dir, f));
const cache = new PresizeCache(cacheDir);
const pixels = await presizeItems(paths, { size: 24, method: 'crop' }, new Random(3), { cache, concurrency: 4 });
writeFileSync(out, JSON.stringify({ hits: cache.hits, misses: cache.misses, digests: pixels.map((p) => createHash('sha256').update(p).digest('hex')) }));
