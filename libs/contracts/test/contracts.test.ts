import { create, fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { DatasetManifestSchema, ItemSchema, Split, TensorSchema, Tensor_DataType, subjects } from '../src/index.ts';

describe('contracts', () => {
  it('round-trips a manifest through the wire format and JSON, keeping enum names and 0-valued options', () => {
    const manifest = create(DatasetManifestSchema, {
      dataDir: '/data/paddy',
      vocab: ['blast', 'healthy'],
      items: [create(ItemSchema, { path: 'train_images/blast/1.jpg', label: 'blast', labelId: 0, split: Split.VALID, width: 480, height: 640, sha256: 'ab' })],
      splitSeed: 0,
      validPct: 0.2,
      testOrder: 'sample',
    });
    const back = fromBinary(DatasetManifestSchema, toBinary(DatasetManifestSchema, manifest));
    expect(back.items[0].split).toBe(Split.VALID);
    expect(back.items[0].width).toBe(480);
    const json = toJson(DatasetManifestSchema, manifest) as Record<string, any>;
    expect(json.items[0].split).toBe('SPLIT_VALID');
    expect(fromJson(DatasetManifestSchema, json).vocab).toEqual(['blast', 'healthy']);
  });

  it('carries tensor bytes unchanged and names every pipeline subject under paddock.', () => {
    const t = create(TensorSchema, { dtype: Tensor_DataType.FLOAT32, shape: [2n, 2n], data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) });
    const back = fromBinary(TensorSchema, toBinary(TensorSchema, t));
    expect(Array.from(new Float32Array(back.data.slice().buffer))).toEqual([1, 2, 3, 4]);
    expect(Object.values(subjects).every((s) => s.startsWith('paddock.'))).toBe(true);
    expect(subjects.modelExported).toBe('paddock.model.exported');
  });
});

describe('paths from requests and events', () => {
  it('confines a dataset folder to the roots, rejecting ".." and symlinked escapes; checks run ids', async () => {
    const { mkdtempSync, mkdirSync, symlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { PathConfinementError, confineDataDir, runDirOf, resolveArtifact, dataRootsFrom } = await import('../src/index.ts');
    const root = mkdtempSync(join(tmpdir(), 'paddock-roots-'));
    mkdirSync(join(root, 'data', 'paddy'), { recursive: true });
    symlinkSync(tmpdir(), join(root, 'data', 'out'));
    const roots = [join(root, 'data')];
    expect(confineDataDir(join(root, 'data', 'paddy'), roots)).toBe(join(root, 'data', 'paddy'));
    expect(() => confineDataDir(`${root}/data/paddy/../../data/paddy`, roots)).toThrow(PathConfinementError);
    expect(() => confineDataDir(root, roots)).toThrow(/outside the dataset roots/);
    expect(() => confineDataDir(join(root, 'data', 'out'), roots)).toThrow(/outside/);
    expect(runDirOf('/runs', 'r-1.2_x')).toBe('/runs/r-1.2_x');
    for (const bad of ['..', '../x', 'a/b', '', '.hidden']) expect(() => runDirOf('/runs', bad)).toThrow(PathConfinementError);
    expect(() => resolveArtifact('/runs', '../etc/passwd')).toThrow(PathConfinementError);
    expect(resolveArtifact('/runs', 'r1/model.onnx')).toBe('/runs/r1/model.onnx');
    expect(dataRootsFrom({ PADDOCK_DATA_ROOTS: '/a:/b' })).toEqual(['/a', '/b']);
  });
});
