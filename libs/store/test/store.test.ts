import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256, writeFileAtomic, writeJsonAtomic } from '../src/index.ts';

describe('store', () => {
  it('writes atomically into new folders and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    writeFileAtomic(join(dir, 'a/b/x.txt'), 'hello');
    writeJsonAtomic(join(dir, 'a/b/y.json'), { n: 1 });
    expect(readFileSync(join(dir, 'a/b/x.txt'), 'utf8')).toBe('hello');
    expect(JSON.parse(readFileSync(join(dir, 'a/b/y.json'), 'utf8'))).toEqual({ n: 1 });
    expect(readdirSync(join(dir, 'a/b')).sort()).toEqual(['x.txt', 'y.json']);
  });

  it('fails cleanly when the target cannot be replaced, leaving no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    writeFileAtomic(join(dir, 'd/keep.txt'), 'x');
    expect(() => writeFileAtomic(join(dir, 'd'), 'cannot replace a directory')).toThrow();
    expect(readdirSync(dir)).toEqual(['d']);
  });

  it('hashes like sha256sum', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
