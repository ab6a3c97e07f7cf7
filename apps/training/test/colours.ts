// A tiny two-colour dataset written to a temp folder, for the training stage's tests.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema, Split, type DatasetManifest } from '@paddock/contracts';
import sharp from 'sharp';

export const vocab = ['blue', 'red'];

/** 20 noisy images per colour, widths 24-28 × 20 (so presize 'crop' draws a real position); 16 train, 4 valid each. */
export async function colourDataset(): Promise<DatasetManifest> {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-colours-'));
  const items = [];
  for (const [labelId, label] of vocab.entries()) {
    mkdirSync(join(dir, label));
    for (let i = 0; i < 20; i++) {
      const path = `${label}/${i}.png`;
      const px = Buffer.alloc((24 + (i % 5)) * 20 * 3);
      for (let k = 0; k < px.length; k++) px[k] = (k % 3 === (label === 'red' ? 0 : 2) ? 180 : 40) + ((k * 7919 + i * 104729) % 50);
      await sharp(px, { raw: { width: 24 + (i % 5), height: 20, channels: 3 } }).png().toFile(join(dir, path));
      items.push(create(ItemSchema, { path, label, labelId, split: i < 16 ? Split.TRAIN : Split.VALID }));
    }
  }
  return create(DatasetManifestSchema, { dataDir: dir, vocab, items, splitSeed: 42, validPct: 0.2 });
}

