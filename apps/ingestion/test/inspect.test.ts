import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectFile } from '../src/inspect.ts';
import { image, put, tempDir } from './make-images.ts';

const dir = tempDir('inspect');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inspectFile', () => {
  it('gives format, oriented size, channels and the SHA-256 of the bytes', async () => {
    const p = put(dir, 'rgb.png', await image('png', 7, 5));
    const r = await inspectFile(p, 1e9);
    expect(r).toMatchObject({ ok: true, format: 'png', width: 7, height: 5, channels: 3 });
    // Orientations 5–8 swap width and height; 2–4 do not.
    const rot = await inspectFile(put(dir, 'r8.jpg', await image('jpeg', 7, 5, 0, 8)), 1e9);
    const flip = await inspectFile(put(dir, 'r3.jpg', await image('jpeg', 7, 5, 0, 3)), 1e9);
    expect(rot).toMatchObject({ ok: true, width: 5, height: 7 });
    expect(flip).toMatchObject({ ok: true, width: 7, height: 5 });
    const empty = await inspectFile(put(dir, 'e.jpg', ''), 1e9);
    // SHA-256 of zero bytes.
    expect(empty).toEqual({ ok: false, kind: 'empty', reason: 'the file is empty (0 bytes)', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  });

  it('reads AVIF by content (sharp decodes it)', async () => {
    expect(await inspectFile(put(dir, 'a.jpg', await image('avif', 8, 6)), 1e9)).toMatchObject({ ok: true, format: 'avif', width: 8, height: 6 });
  });

  it('calls a directory not-a-file and an unreadable path unreadable', async () => {
    expect(await inspectFile(dir, 1e9)).toMatchObject({ ok: false, kind: 'not-a-file', sha256: '' });
    const r = await inspectFile(join(dir, 'x'.repeat(300) + '.jpg'), 1e9);
    expect(r).toMatchObject({ ok: false, kind: 'unreadable' });
    if (!r.ok) expect(r.reason).toMatch(/^cannot read the file: ENAMETOOLONG/);
  });

  it.skipIf(process.getuid?.() === 0)('reports permission denied with the fix', async () => {
    const p = put(dir, 'locked.png', await image('png', 4, 4));
    chmodSync(p, 0o000);
    try {
      expect(await inspectFile(p, 1e9)).toEqual({ ok: false, kind: 'unreadable', reason: 'permission denied (EACCES); make the file readable', sha256: '' });
    } finally {
      chmodSync(p, 0o644);
    }
  });

  it('stops at max_pixels without decoding, naming the oriented size', async () => {
    const r = await inspectFile(put(dir, 'big.jpg', await image('jpeg', 30, 20, 0, 6)), 599);
    expect(r).toMatchObject({ ok: false, kind: 'too-large', reason: '20×30 = 600 pixels is over max_pixels 599; shrink the image or raise max_pixels' });
    expect(await inspectFile(join(dir, 'big.jpg'), 600)).toMatchObject({ ok: true, width: 20, height: 30 });
  });
});
