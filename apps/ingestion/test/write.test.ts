import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, fromJson, toJson } from '@bufbuild/protobuf';
import { AuditSchema, DatasetManifestSchema, type DatasetManifest } from '@paddock/contracts';
import { ingest, writeManifest } from '../src/index.ts';
import { image, put, tempDir } from './make-images.ts';

const data = tempDir('wdata');
const out = join(tempDir('wout'), 'nested', 'run1');
let m: DatasetManifest;

beforeAll(async () => {
  put(data, 'train_images/cat/1.png', await image('png', 12, 10, 1));
  put(data, 'train_images/cat/2.jpg', await image('jpeg', 12, 10, 2));
  put(data, 'train_images/dog/3.jpg', await image('png', 12, 10, 3));
  put(data, 'train_images/dog/4.png', await image('png', 12, 10, 4));
  put(data, 'train_images/dog/bad.png', 'nope');
  put(data, 'test_images/t.jpg', await image('jpeg', 12, 10, 5));
  m = await ingest({ dataDir: data, validPct: 0.25, seed: 7 });
});
afterAll(() => {
  rmSync(data, { recursive: true, force: true });
  rmSync(join(out, '..', '..'), { recursive: true, force: true });
});

describe('writeManifest', () => {
  it('writes manifest.json without the audit and audit.json with it, leaving no temp files', async () => {
    const written = await writeManifest(m, out);
    expect(written).toEqual({ manifestPath: join(out, 'manifest.json'), auditPath: join(out, 'audit.json') });
    expect(readdirSync(out).sort()).toEqual(['audit.json', 'manifest.json']);
    const text = readFileSync(written.manifestPath, 'utf8');
    expect(text.split('\n')[1]).toMatch(/^ {2}"/); // 2-space indentation
    const json = JSON.parse(text);
    expect(json.audit).toBeUndefined();
    expect(json.vocab).toEqual(['cat', 'dog']);
    expect([json.splitSeed, json.validPct, json.testOrder]).toEqual([7, 0.25, 'sorted']);
    expect(json.items).toHaveLength(4);
    for (const it of json.items) {
      expect(Object.keys(it)).toEqual(expect.arrayContaining(['path', 'label', 'labelId', 'split', 'width', 'height', 'format', 'sha256', 'duplicateGroup']));
      expect(['SPLIT_TRAIN', 'SPLIT_VALID']).toContain(it.split);
    }
    expect(json.items[0]).toMatchObject({ path: 'train_images/cat/1.png', label: 'cat', labelId: 0, width: 12, height: 10, format: 'png' });
    expect(json.items.filter((it: { split: string }) => it.split === 'SPLIT_VALID')).toHaveLength(1); // floor(0.25·4)
    expect(json.testItems[0]).toMatchObject({ imageId: 't.jpg', split: 'SPLIT_TEST', labelId: -1 });
  });

  it('round-trips: fromJson of the two files gives back the manifest', async () => {
    await writeManifest(m, out);
    const back = fromJson(DatasetManifestSchema, JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    back.audit = fromJson(AuditSchema, JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8')));
    expect(toJson(DatasetManifestSchema, back)).toEqual(toJson(DatasetManifestSchema, m));
    expect(back.audit.problems.map((p) => [p.path, p.kind])).toEqual([['train_images/dog/bad.png', 'not-an-image']]);
    expect(back.audit.formatMismatches.map((f) => f.path)).toEqual(['train_images/dog/3.jpg']);
  });

  it('replaces earlier files whole and writes an empty audit when the manifest has none', async () => {
    const bare = create(DatasetManifestSchema, { ...m, audit: undefined, vocab: ['only'] });
    await writeManifest(bare, out);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).vocab).toEqual(['only']);
    expect(JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8'))).toMatchObject({ problems: [], trainCount: 0 });
  });
});
