// The local artifact store: content keys independent of key order, put/get/has with the record of
// inputs and file hashes, a second put of a key kept as the first, and run-folder links.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalArtifactStore, artifactKey, canonicalJson, linkArtifactFiles, sha256 } from '../src/index.ts';

describe('artifact keys', () => {
  it('hash the inputs in canonical JSON: key order does not matter, any value does', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
    const inputs = { stage: 'training', manifest: 'abc', recipe: { epochs: 2, lr: 0.01 } };
    expect(artifactKey(inputs)).toBe(sha256('{"manifest":"abc","recipe":{"epochs":2,"lr":0.01},"stage":"training"}'));
    expect(artifactKey({ recipe: { lr: 0.01, epochs: 2 }, manifest: 'abc', stage: 'training' })).toBe(artifactKey(inputs));
    expect(artifactKey({ ...inputs, recipe: { epochs: 3, lr: 0.01 } })).not.toBe(artifactKey(inputs));
    expect(artifactKey({ ...inputs, stage: 'evaluation' })).not.toBe(artifactKey(inputs));
  });
});

describe('LocalArtifactStore', () => {
  it('stores a staged folder under its key with the record of its inputs; a second put keeps the first', async () => {
    const store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'artifacts-')));
    const inputs = { stage: 'training', recipe: { epochs: 2 } };
    const key = artifactKey(inputs);
    expect(await store.has(key)).toBe(false);
    expect(await store.get(key)).toBeUndefined();
    const staged = store.stagingDir();
    writeFileSync(join(staged, 'model.onnx'), 'weights');
    mkdirSync(join(staged, 'plots'));
    writeFileSync(join(staged, 'plots', 'loss.png'), 'png');
    const put = await store.put(key, staged, { inputs, result: 'cmVzdWx0' });
    expect(put.dir).toBe(store.dirOf(key));
    expect(put.record).toMatchObject({ key, inputs, result: 'cmVzdWx0' });
    expect(put.record.files).toEqual([
      { name: 'model.onnx', size: 7, sha256: sha256('weights') },
      { name: 'plots/loss.png', size: 3, sha256: sha256('png') },
    ]);
    expect(await store.has(key)).toBe(true);
    expect((await store.get(key))!.record).toEqual(put.record);
    expect(JSON.parse(readFileSync(join(put.dir, 'artifact.json'), 'utf8'))).toEqual(put.record);

    const again = store.stagingDir();
    writeFileSync(join(again, 'model.onnx'), 'other weights');
    const second = await store.put(key, again, { inputs });
    expect(second.record).toEqual(put.record);
    expect(readFileSync(join(second.dir, 'model.onnx'), 'utf8')).toBe('weights');
    expect(readdirSync(join(store.root, '.staging'))).toEqual([]);

    const run = mkdtempSync(join(tmpdir(), 'run-'));
    linkArtifactFiles(put, run);
    expect(readFileSync(join(run, 'plots', 'loss.png'), 'utf8')).toBe('png');
    expect(readdirSync(run).sort()).toEqual(['model.onnx', 'plots']);
    expect(() => store.dirOf('../x')).toThrow(/not a sha256/);
  });
});
