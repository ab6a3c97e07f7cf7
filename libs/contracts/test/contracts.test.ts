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
