// The real rice-leaf dataset, when the machine has it (CI does; the product never needs it).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsv } from '@paddock/labels';
import { Split } from '@paddock/contracts';
import { ingest } from '../src/index.ts';

const dir = '/work/shared/datasets/rice-leaf';

describe('rice-leaf', () => {
  it.skipIf(!existsSync(dir))('ingests 1000 labelled and 400 test images with the known quirks', async () => {
    const t0 = performance.now();
    const m = await ingest({ dataDir: dir });
    const first = performance.now() - t0;
    const again = await ingest({ dataDir: dir });
    console.log(`rice-leaf ingest: ${first.toFixed(0)} ms (again: ${(performance.now() - t0 - first).toFixed(0)} ms)`);
    const a = m.audit!;
    const trainProblems = a.problems.filter((p) => p.path.startsWith('train_images/') && !p.kept);
    expect(m.items).toHaveLength(1000 - trainProblems.length);
    expect(m.vocab).toEqual(['Brown_Spot', 'Healthy', 'Leaf_Blast', 'Leaf_Blight']);
    expect(a.trainCount + a.validCount).toBe(m.items.length);
    expect(a.validCount).toBeGreaterThanOrEqual(Math.floor(0.2 * m.items.length));
    const sample = readCsv(`${dir}/sample_submission.csv`, ['image_id']).map((r) => r.values.image_id);
    expect(m.testOrder).toBe('sample');
    expect(m.testItems.map((t) => t.imageId)).toEqual(sample);
    expect(m.testItems).toHaveLength(400);
    const healthy = a.labels.find((l) => l.label === 'Healthy')!;
    expect(healthy.sizeOutlier).toBe(true);
    expect(a.labels.filter((l) => l.sizeOutlier).map((l) => l.label)).toEqual(['Healthy']);
    expect(a.duplicates.length).toBeGreaterThanOrEqual(100);
    for (const g of a.duplicates) {
      const sides = new Set(m.items.filter((x) => x.duplicateGroup === g.id).map((x) => x.split));
      expect(sides.size).toBeLessThanOrEqual(1);
    }
    expect(a.formatMismatches.length).toBeGreaterThan(0);
    expect(a.formatMismatches.every((f) => f.format === 'png' && (f.extension === '.jpg' || f.extension === '.jpeg'))).toBe(true);
    expect(m.items.every((x) => x.split === Split.TRAIN || x.split === Split.VALID)).toBe(true);
    expect(again.items.map((x) => x.split)).toEqual(m.items.map((x) => x.split));
  }, 120_000);
});
