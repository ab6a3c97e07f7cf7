import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Split, type DatasetManifest, type Item } from '@paddock/contracts';
import { ingest } from '../src/index.ts';
import { bmp, image, put, tempDir } from './make-images.ts';

// A small dataset with one of every kind of trouble. Labels: cat, dog (32×24 images) and tiny
// (16×16 only, the size outlier).
const root = tempDir('messy');
const isRoot = process.getuid?.() === 0;

async function buildMessy(): Promise<void> {
  const jpeg = await image('jpeg', 32, 24, 1);
  put(root, 'train_images/cat/a.png', await image('png', 32, 24, 2));
  put(root, 'train_images/cat/b.jpg', jpeg);
  put(root, 'train_images/cat/C.JPG', await image('jpeg', 32, 24, 3));
  put(root, 'train_images/cat/d.jpg', await image('png', 32, 24, 4)); // PNG named .jpg
  put(root, 'train_images/cat/e.jpeg', await image('jpeg', 32, 24, 5));
  put(root, 'train_images/cat/f.tif', await image('tiff', 32, 24, 6));
  put(root, 'train_images/cat/g.bmp', bmp(32, 24));
  // EXIF orientation 6 (rotate 90°): stored 24×32, seen 32×24 like the rest.
  put(root, 'train_images/cat/rotated.jpg', await image('jpeg', 24, 32, 7, 6));
  put(root, 'train_images/cat/empty.jpg', '');
  put(root, 'train_images/cat/half.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  put(root, 'train_images/cat/text.png', 'this is not a picture\n');
  put(root, 'train_images/cat/notes.txt', 'labels were checked by hand\n');
  put(root, 'train_images/cat/.hidden.jpg', jpeg);
  put(root, 'train_images/cat/.thumbs/t.jpg', jpeg);
  mkdirSync(join(root, 'train_images/cat/folder.jpg'), { recursive: true });
  symlinkSync(join(root, 'nowhere.jpg'), join(root, 'train_images/cat/broken.jpg'));
  put(root, 'train_images/dog/a.jpg', await image('jpeg', 32, 24, 10));
  put(root, 'train_images/dog/b.webp', await image('webp', 32, 24, 11));
  put(root, 'train_images/dog/c.gif', await image('gif', 32, 24, 12));
  // Flipped bytes inside the JPEG entropy data: decodes with a warning (kept, reported); inside
  // the PNG's compressed data: an error (left out).
  const flip = (b: Buffer, from: number, to: number) => {
    const c = Buffer.from(b);
    for (let i = Math.floor(b.length * from); i < Math.floor(b.length * to); i++) c[i] ^= 0xff;
    return c;
  };
  put(root, 'train_images/dog/garbled.jpg', flip(await image('jpeg', 32, 24, 13), 0.6, 0.8));
  put(root, 'train_images/dog/garbled.png', flip(await image('png', 32, 24, 14), 0.3, 0.5));
  // The same bytes under two labels and twice under one.
  const dup = await image('png', 32, 24, 20);
  put(root, 'train_images/cat/dup.png', dup);
  put(root, 'train_images/dog/dup.png', dup);
  put(root, 'train_images/dog/dup-again.png', dup);
  for (let i = 0; i < 4; i++) put(root, `train_images/tiny/t${i}.png`, await image('png', 16, 16, 30 + i));
  put(root, 'train_images/loose.jpg', jpeg);
  if (!isRoot) {
    put(root, 'train_images/dog/locked.jpg', jpeg);
    chmodSync(join(root, 'train_images/dog/locked.jpg'), 0o000);
  }
  for (const [name, v] of [['10.jpg', 40], ['9.jpg', 41], ['1.jpg', 42], ['extra.jpg', 43]] as const) {
    put(root, `test_images/${name}`, await image('jpeg', 32, 24, v));
  }
  put(root, 'test_images/broken.jpg', jpeg.subarray(0, 100));
  put(root, 'sample_submission.csv', 'image_id,label\n10.jpg,\n9.jpg,\nbroken.jpg,\n1.jpg,\n');
}

function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((d) => join(d.parentPath, d.name))
    .map((p) => {
      try {
        const s = statSync(p);
        return `${p} ${s.size} ${s.mtimeMs} ${s.mode}`;
      } catch {
        return `${p} (dangling)`;
      }
    })
    .sort();
}

let m: DatasetManifest;
let before: string[];
const progress: [number, number][] = [];

beforeAll(async () => {
  await buildMessy();
  before = snapshot(root);
  m = await ingest({ dataDir: root, onProgress: (d, t) => progress.push([d, t]) });
});
afterAll(() => {
  if (!isRoot) chmodSync(join(root, 'train_images/dog/locked.jpg'), 0o644);
  rmSync(root, { recursive: true, force: true });
});

const item = (path: string): Item => {
  const it = [...m.items, ...m.testItems].find((x) => x.path === path);
  if (!it) throw new Error(`no item ${path}`);
  return it;
};
const problemKinds = () => Object.fromEntries(m.audit!.problems.map((p) => [p.path, p.kind]));

describe('ingest on a messy folder', () => {
  it('keeps every readable labelled image, sorted by code point, with its folder label', () => {
    expect(m.items.map((x) => x.path)).toEqual([
      'train_images/cat/C.JPG',
      'train_images/cat/a.png',
      'train_images/cat/b.jpg',
      'train_images/cat/d.jpg',
      'train_images/cat/dup.png',
      'train_images/cat/e.jpeg',
      'train_images/cat/f.tif',
      'train_images/cat/g.bmp',
      'train_images/cat/rotated.jpg',
      'train_images/dog/a.jpg',
      'train_images/dog/b.webp',
      'train_images/dog/c.gif',
      'train_images/dog/dup-again.png',
      'train_images/dog/dup.png',
      'train_images/dog/garbled.jpg',
      'train_images/tiny/t0.png',
      'train_images/tiny/t1.png',
      'train_images/tiny/t2.png',
      'train_images/tiny/t3.png',
    ]);
    expect(m.vocab).toEqual(['cat', 'dog', 'tiny']);
    for (const it of m.items) expect(it.labelId).toBe(m.vocab.indexOf(it.label));
    expect(item('train_images/dog/c.gif').label).toBe('dog');
  });

  it('records the format read from the bytes and the size after EXIF orientation', () => {
    expect(item('train_images/cat/d.jpg').format).toBe('png');
    expect(item('train_images/cat/C.JPG').format).toBe('jpeg');
    expect(item('train_images/cat/f.tif').format).toBe('tiff');
    expect(item('train_images/dog/b.webp').format).toBe('webp');
    const r = item('train_images/cat/rotated.jpg');
    expect([r.width, r.height]).toEqual([32, 24]);
    for (const it of m.items) expect(it.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists a format mismatch only where the extension family disagrees with the bytes', () => {
    expect(m.audit!.formatMismatches.map((f) => [f.path, f.extension, f.format])).toEqual([['train_images/cat/d.jpg', '.jpg', 'png']]);
  });

  it('reports each bad file with a kind and a reason, and skips hidden names silently', () => {
    const expected: Record<string, string> = {
      'test_images/broken.jpg': 'truncated',
      'test_images/extra.jpg': 'not-in-sample',
      'train_images/cat/broken.jpg': 'not-a-file',
      'train_images/cat/empty.jpg': 'empty',
      'train_images/cat/folder.jpg': 'not-a-file',
      'train_images/cat/half.jpg': 'truncated',
      'train_images/cat/notes.txt': 'not-an-image-extension',
      'train_images/cat/text.png': 'not-an-image',
      'train_images/dog/garbled.jpg': 'decoder-warning',
      'train_images/dog/garbled.png': 'corrupt',
      'train_images/loose.jpg': 'unlabelled',
    };
    if (!isRoot) expected['train_images/dog/locked.jpg'] = 'unreadable';
    expect(problemKinds()).toEqual(expected);
    const reason = (p: string) => m.audit!.problems.find((x) => x.path === p)!.reason;
    expect(reason('train_images/cat/half.jpg')).toMatch(/^the file stops after \d+ bytes without the JPEG end-of-image marker \(FF D9\); decoder: /);
    expect(reason('train_images/cat/text.png')).toContain('"this is "');
    expect(reason('train_images/cat/broken.jpg')).toMatch(/broken symbolic link/);
    expect(item('train_images/cat/g.bmp').format).toBe('bmp');
    expect(reason('train_images/dog/garbled.jpg')).toMatch(/^decodes, but the decoder warns: .*Corrupt JPEG data/);
    expect(JSON.stringify(m)).not.toContain('hidden');
    expect(JSON.stringify(m)).not.toContain('thumbs');
  });

  it('groups exact duplicates across labels and keeps each group on one side of the split', () => {
    expect(m.audit!.duplicates.map((g) => [g.id, g.paths])).toEqual([
      [1, ['train_images/cat/dup.png', 'train_images/dog/dup-again.png', 'train_images/dog/dup.png']],
    ]);
    const group = m.items.filter((x) => x.duplicateGroup === 1);
    expect(group).toHaveLength(3);
    expect(new Set(group.map((x) => x.split)).size).toBe(1);
    expect(m.items.filter((x) => x.duplicateGroup !== 0)).toHaveLength(3);
  });

  it('splits floor(0.2·n) items into valid or overshoots by less than the largest group', () => {
    const valid = m.items.filter((x) => x.split === Split.VALID).length;
    const target = Math.floor(0.2 * m.items.length); // 18 items → 3
    expect(valid).toBeGreaterThanOrEqual(target);
    expect(valid).toBeLessThanOrEqual(target + 2);
    expect(m.audit!.validCount).toBe(valid);
    expect(m.audit!.trainCount).toBe(m.items.length - valid);
    expect(m.items.every((x) => x.split === Split.TRAIN || x.split === Split.VALID)).toBe(true);
    expect([m.splitSeed, m.validPct]).toEqual([42, 0.2]);
  });

  it('keeps sample_submission order (10.jpg before 9.jpg) and keeps an undecodable test row marked', () => {
    expect(m.testOrder).toBe('sample');
    expect(m.testItems.map((x) => x.imageId)).toEqual(['10.jpg', '9.jpg', 'broken.jpg', '1.jpg']);
    const broken = item('test_images/broken.jpg');
    expect([broken.width, broken.height, broken.format]).toEqual([0, 0, '']);
    expect(broken.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.testItems.every((x) => x.split === Split.TEST && x.label === '' && x.labelId === -1)).toBe(true);
    expect(item('test_images/10.jpg').width).toBe(32);
    expect(m.audit!.testCount).toBe(4);
  });

  it('computes per-label counts and size histograms and flags the label whose sizes no other has', () => {
    const stats = m.audit!.labels.map((l) => ({ label: l.label, count: l.count, sizes: l.sizes.map((s) => `${s.width}x${s.height}:${s.count}`), outlier: l.sizeOutlier }));
    expect(stats).toEqual([
      { label: 'cat', count: 9, sizes: ['32x24:9'], outlier: false },
      { label: 'dog', count: 6, sizes: ['32x24:6'], outlier: false },
      { label: 'tiny', count: 4, sizes: ['16x16:4'], outlier: true },
    ]);
  });

  it('reports progress from 0 to the number of files inspected, one step at a time', () => {
    // 24 labelled candidates in train (locked.jpg only when not root) + 4 sample rows.
    const total = (isRoot ? 23 : 24) + 4;
    expect(progress[0]).toEqual([0, total]);
    expect(progress.map(([d]) => d)).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(progress.every(([, t]) => t === total)).toBe(true);
  });

  it('leaves the input folder exactly as it was', () => {
    expect(snapshot(root)).toEqual(before);
  });
});

describe('ingest checks', () => {
  it('refuses files too large for max_pixels, naming their size', async () => {
    const dir = tempDir('large');
    try {
      put(dir, 'train_images/a/small.png', await image('png', 10, 10));
      put(dir, 'train_images/a/big.png', await image('png', 40, 30));
      put(dir, 'train_images/a/big.bmp', bmp(40, 30));
      const r = await ingest({ dataDir: dir, maxPixels: 1000 });
      expect(r.items.map((x) => x.path)).toEqual(['train_images/a/small.png']);
      expect(r.audit!.problems.map((p) => [p.path, p.kind])).toEqual([
        ['train_images/a/big.bmp', 'too-large'],
        ['train_images/a/big.png', 'too-large'],
      ]);
      expect(r.audit!.problems[1].reason).toContain('40×30 = 1200 pixels is over max_pixels 1000');
      expect(r.testOrder).toBe('sorted');
      expect(r.testItems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cross-checks train.csv: a disagreeing label is left out, a missing row is kept, an orphan row is reported', async () => {
    const dir = tempDir('csv');
    try {
      put(dir, 'train_images/cat/1.png', await image('png', 8, 8, 1));
      put(dir, 'train_images/cat/2.png', await image('png', 8, 8, 2));
      put(dir, 'train_images/dog/3.png', await image('png', 8, 8, 3));
      put(dir, 'train_images/dog/4.png', await image('png', 8, 8, 4));
      put(dir, 'train.csv', 'image_id,label\n1.png,cat\n2.png,dog\n3.png,dog\n5.png,dog\n');
      const r = await ingest({ dataDir: dir });
      expect(r.items.map((x) => x.path)).toEqual(['train_images/cat/1.png', 'train_images/dog/3.png', 'train_images/dog/4.png']);
      expect(r.audit!.problems.map((p) => [p.path, p.kind])).toEqual([
        ['train.csv', 'missing-file'],
        ['train_images/cat/2.png', 'label-mismatch'],
        ['train_images/dog/4.png', 'not-in-csv'],
      ]);
      expect(r.audit!.problems[0].reason).toContain('5.png');
      expect(r.audit!.problems[1].reason).toBe('train.csv labels it "dog" but it is in folder "cat"; left out until they agree');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('orders test items by path when there is no sample_submission.csv', async () => {
    const dir = tempDir('sorted');
    try {
      put(dir, 'train_images/a/x.png', await image('png', 8, 8));
      for (const n of ['9.jpg', '10.jpg', 'b.PNG', 'readme.md']) put(dir, `test_images/${n}`, n.endsWith('.md') ? '# hi' : await image('jpeg', 8, 8));
      const r = await ingest({ dataDir: dir });
      expect(r.testOrder).toBe('sorted');
      expect(r.testItems.map((x) => x.imageId)).toEqual(['10.jpg', '9.jpg', 'b.PNG']);
      expect(r.audit!.problems.map((p) => [p.path, p.kind])).toEqual([['test_images/readme.md', 'not-an-image-extension']]);
      expect(r.audit!.labels[0].sizeOutlier).toBe(false); // one label: nothing to differ from
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
