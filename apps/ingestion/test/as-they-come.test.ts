// Ingestion of the files people really have: odd names, links, BMP, 16-bit PNG, lying
// extensions, and near-duplicates (re-encoded, resized copies), which the split keeps together.
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Split, type DatasetManifest } from '@paddock/contracts';
import { ingest, nearDuplicateGroups } from '../src/index.ts';
import { bmp, image, put, tempDir } from './make-images.ts';

const root = tempDir('as-they-come');

/** A smooth picture (so its dHash is stable under re-encoding): blobs placed by `variant`. */
function scene(width: number, height: number, variant: number): Buffer {
  const b = Buffer.alloc(width * height * 3);
  const fx = 1 + (variant % 5);
  const fy = 1 + ((variant * 7) % 4);
  const phase = variant * 1.3;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = 128 + 100 * Math.sin((fx * Math.PI * x) / width + phase) * Math.cos((fy * Math.PI * y) / height + phase / 2);
      b.set([v, 255 - v, (v * 0.5 + 60) | 0], (y * width + x) * 3);
    }
  return b;
}
const encode = (px: Buffer, w: number, h: number) => sharp(px, { raw: { width: w, height: h, channels: 3 } });

function png16(width: number, height: number, value: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16;
  ihdr[9] = 2;
  const row = Buffer.alloc(1 + width * 6);
  for (let i = 0; i < width * 3; i++) row.writeUInt16BE((value + i * 997) % 65536, 1 + 2 * i);
  const idat = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

let m: DatasetManifest;
beforeAll(async () => {
  for (let v = 0; v < 12; v++) put(root, `train_images/${v % 2 ? 'b' : 'a'}/s${v}.png`, await encode(scene(64, 48, v), 64, 48).png().toBuffer());
  // Near-duplicates of s0: a resized JPEG and a slightly brighter PNG, in the other label too.
  put(root, 'train_images/a/s0-small.jpg', await encode(scene(64, 48, 0), 64, 48).resize(48, 36).jpeg({ quality: 70 }).toBuffer());
  put(root, 'train_images/b/s0-bright.png', await encode(scene(64, 48, 0), 64, 48).linear(1, 8).png().toBuffer());
  put(root, 'train_images/a/café ñ 写真.jpg', await image('jpeg', 64, 48, 50));
  put(root, 'train_images/b/with space.png', await image('png', 64, 48, 51));
  put(root, 'train_images/b/picture.bmp', bmp(64, 48));
  put(root, 'train_images/b/deep.png', png16(64, 48, 40000));
  put(root, 'train_images/a/really-webp.png', await image('webp', 64, 48, 52));
  symlinkSync('loop2.jpg', join(root, 'train_images/a/loop1.jpg'));
  symlinkSync('loop1.jpg', join(root, 'train_images/a/loop2.jpg'));
  put(root, 'train_images/a/target.jpg', await image('jpeg', 64, 48, 53));
  symlinkSync('../a/target.jpg', join(root, 'train_images/b/link-to-a.jpg'));
  m = await ingest({ dataDir: root, validPct: 0.3 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const kindOf = (path: string) => m.audit!.problems.filter((p) => p.path === path).map((p) => p.kind);

describe('ingest, images as they come', () => {
  it('keeps non-ASCII and space-containing names, BMP, 16-bit PNG and a working symlink', () => {
    const paths = m.items.map((x) => x.path);
    for (const p of ['train_images/a/café ñ 写真.jpg', 'train_images/b/with space.png', 'train_images/b/picture.bmp', 'train_images/b/deep.png', 'train_images/b/link-to-a.jpg']) expect(paths).toContain(p);
    const deep = m.items.find((x) => x.path === 'train_images/b/deep.png')!;
    expect([deep.format, deep.width, deep.height, deep.channels]).toEqual(['png', 64, 48, 3]);
  });

  it('reports symlink loops as not-a-file and lying extensions as format mismatches (read by content)', () => {
    expect(kindOf('train_images/a/loop1.jpg')).toEqual(['not-a-file']);
    expect(m.audit!.problems.find((p) => p.path === 'train_images/a/loop1.jpg')!.reason).toMatch(/symbolic link/);
    expect(m.audit!.formatMismatches.map((f) => [f.path, f.format])).toEqual([['train_images/a/really-webp.png', 'webp']]);
    expect(m.items.find((x) => x.path === 'train_images/a/really-webp.png')!.format).toBe('webp');
  });

  it('groups near-duplicates by dHash, reports them kept, and keeps each group on one side', async () => {
    const near = m.audit!.problems.filter((p) => p.kind === 'near-duplicate');
    expect(near.map((p) => p.path).sort()).toEqual(['train_images/a/s0-small.jpg', 'train_images/a/s0.png', 'train_images/b/s0-bright.png']);
    expect(near.every((p) => p.kept && /near-duplicate group 1 \(3 files/.test(p.reason))).toBe(true);
    const group = new Set(near.map((p) => p.path));
    for (let seed = 0; seed < 8; seed++) {
      const s = await ingest({ dataDir: root, seed, validPct: 0.3, keepNearDuplicatesTogether: true });
      const sides = new Set(s.items.filter((x) => group.has(x.path)).map((x) => x.split));
      expect(sides.size).toBe(1);
      expect(s.items.every((x) => x.split === Split.TRAIN || x.split === Split.VALID)).toBe(true);
    }
  });

  it('can switch near-duplicate detection off, or just their effect on the split', async () => {
    const off = await ingest({ dataDir: root, nearDuplicateDistance: -1 });
    expect(off.audit!.problems.some((p) => p.kind === 'near-duplicate')).toBe(false);
    const loose = await ingest({ dataDir: root }); // the default: reported, not used by the split
    expect(loose.audit!.problems.filter((p) => p.kind === 'near-duplicate')).toHaveLength(3);
    expect(loose.audit!.problems.find((p) => p.kind === 'near-duplicate')!.reason).not.toMatch(/same side/);
  });
});

describe('nearDuplicateGroups', () => {
  it('links transitively within the threshold and ignores groups of equal bytes only', () => {
    const items = [
      { path: 'a', sha256: '1', dhash: '0000000000000000' },
      { path: 'b', sha256: '2', dhash: '0000000000000003' }, // 2 bits from a
      { path: 'c', sha256: '3', dhash: '000000000000000f' }, // 2 bits from b, 4 from a
      { path: 'd', sha256: '4', dhash: 'ffffffffffffffff' },
      { path: 'e', sha256: '5', dhash: 'ffffffffffffffff' }, // exact-hash twin of d's picture, other bytes
      { path: 'f', sha256: '6', dhash: '0f0f0f0f0f0f0f0f' },
      { path: 'g', sha256: '6', dhash: '0f0f0f0f0f0f0f0f' }, // same bytes as f: an exact duplicate
      { path: 'h', sha256: '7', dhash: undefined }, // featureless (flat) images are never grouped
      { path: 'i', sha256: '8', dhash: undefined },
    ];
    const { groups, groupOf } = nearDuplicateGroups(items, 2);
    expect(groups.map((g) => [g.id, g.paths, g.distance])).toEqual([[1, ['a', 'b', 'c'], 2], [2, ['d', 'e'], 0]]);
    expect(groupOf.get('f')).toBeUndefined();
    expect(groupOf.get('h')).toBeUndefined();
    expect(nearDuplicateGroups(items, 1).groups.map((g) => g.paths)).toEqual([['d', 'e']]);
  });
});

describe('featureless images', () => {
  it('get no perceptual hash, so flat images of one colour are not called near-duplicates', async () => {
    const dir = tempDir('flat');
    try {
      for (let i = 0; i < 6; i++) {
        const px = Buffer.alloc(40 * 32 * 3);
        for (let k = 0; k < px.length; k++) px[k] = Math.max(0, Math.min(255, [200, 40, 40][k % 3] + ((k * 7919 + i * 104729) % 61) - 30));
        put(dir, `train_images/reds/r${i}.jpg`, await sharp(px, { raw: { width: 40, height: 32, channels: 3 } }).jpeg().toBuffer());
        put(dir, `train_images/blues/b${i}.png`, await sharp({ create: { width: 40, height: 32, channels: 3, background: { r: 40, g: 60, b: 200 + i } } }).png().toBuffer());
      }
      const flat = await ingest({ dataDir: dir });
      expect(flat.audit!.problems.filter((p) => p.kind === 'near-duplicate')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
