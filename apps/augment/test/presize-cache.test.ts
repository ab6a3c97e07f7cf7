import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '@paddock/tensor';
import { PresizeCache, presizeItems } from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'paddock-presize-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const images = join(tmp, 'images');
const digest = (p: Uint8Array) => createHash('sha256').update(p).digest('hex');
const entries = (dir: string) => readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('.'));

beforeAll(async () => {
  mkdirSync(images);
  for (let i = 0; i < 24; i++) {
    const w = 40 + i * 3;
    const h = 30 + ((i * 7) % 20);
    const data = Buffer.alloc(w * h * 3);
    for (let k = 0; k < data.length; k++) data[k] = (k * (i + 3) + (k >> 5)) & 255;
    await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(images, `im${String(i).padStart(2, '0')}.png`));
  }
});

describe('presize cache', () => {
  it('gives the same pixels as no cache, and a second run decodes nothing', async () => {
    const paths = readdirSync(images).sort().map((f) => join(images, f));
    const spec = { size: 20, method: 'crop' as const };
    const plain = await presizeItems(paths, spec, new Random(5));
    const cache = new PresizeCache(join(tmp, 'c1'));
    const first = await presizeItems(paths, spec, new Random(5), { cache });
    expect([cache.hits, cache.misses]).toEqual([0, 24]);
    const second = await presizeItems(paths, spec, new Random(5), { cache });
    expect([cache.hits, cache.misses]).toEqual([24, 24]);
    expect(first.map(digest)).toEqual(plain.map(digest));
    expect(second.map(digest)).toEqual(plain.map(digest));
    // Another position draw or another spec is another entry.
    await presizeItems(paths.slice(0, 3), spec, new Random(6), { cache });
    await presizeItems(paths.slice(0, 3), { ...spec, method: 'pad' }, 'centre', { cache });
    expect(cache.misses).toBe(30);
    expect(entries(join(tmp, 'c1')).every((f) => f.endsWith('.rgb'))).toBe(true);
  });

  it('keys on content, not on the path: a renamed copy is a hit', async () => {
    const cache = new PresizeCache(join(tmp, 'c2'));
    const a = join(images, 'im00.png');
    const copy = join(tmp, 'renamed copy.png');
    writeFileSync(copy, readFileSync(a));
    await presizeItems([a], { size: 16, method: 'squish' }, 'centre', { cache });
    await presizeItems([copy], { size: 16, method: 'squish' }, 'centre', { cache });
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });

  it('ignores a damaged entry (wrong length) and rewrites it', async () => {
    const dir = join(tmp, 'c3');
    const cache = new PresizeCache(dir);
    const path = join(images, 'im01.png');
    const [good] = await presizeItems([path], { size: 16 }, 'centre', { cache });
    const [entry] = entries(dir);
    writeFileSync(join(dir, entry), 'short');
    const [again] = await presizeItems([path], { size: 16 }, 'centre', { cache });
    expect(digest(again)).toBe(digest(good));
    expect(readFileSync(join(dir, entry)).length).toBe(16 * 16 * 3);
  });

  it('is safe when two processes fill it at once', async () => {
    const dir = join(tmp, 'shared');
    const run = promisify(execFile);
    const child = (n: number) => run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fill-cache.ts'), images, dir, join(tmp, `out${n}.json`)], { cwd: join(import.meta.dirname, '..') });
    await Promise.all([child(1), child(2)]);
    const [a, b] = [1, 2].map((n) => JSON.parse(readFileSync(join(tmp, `out${n}.json`), 'utf8')));
    const plain = (await presizeItems(readdirSync(images).sort().map((f) => join(images, f)), { size: 24, method: 'crop' }, new Random(3))).map(digest);
    expect(a.digests).toEqual(plain);
    expect(b.digests).toEqual(plain);
    const files = entries(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toHaveLength(24);
    // A third run finds everything.
    await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fill-cache.ts'), images, dir, join(tmp, 'out3.json')], { cwd: join(import.meta.dirname, '..') });
    expect(JSON.parse(readFileSync(join(tmp, 'out3.json'), 'utf8')).hits).toBe(24);
  }, 30_000);
});
