// `paddock predict` and `paddock report` as a user runs them, on a model trained here by the
// training stage (1 epoch, resnet-tiny, red vs blue): folder order, CSV columns, exit codes;
// `paddock submit` on the same run, checked against predict's labels.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toJson } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema, Split } from '@paddock/contracts';
import { train } from '@paddock/training';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { paddock } from './support.ts';


const colour = (label: string, i: number) => (label === 'red' ? { r: 200, g: 40 + i * 5, b: 40 } : { r: 40, g: 40 + i * 5, b: 200 });
let dir: string;
let runDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-predict-'));
  const items = [];
  for (const [labelId, label] of ['blue', 'red'].entries()) {
    mkdirSync(join(dir, label));
    for (let i = 0; i < 10; i++) {
      const path = `${label}/${i}.png`;
      await sharp({ create: { width: 20, height: 16, channels: 3, background: colour(label, i) } }).png().toFile(join(dir, path));
      items.push(create(ItemSchema, { path, label, labelId, split: i < 8 ? Split.TRAIN : Split.VALID }));
    }
  }
  // The test images below, in a sample order that is not sorted (9 before 10, the nested one last).
  const testItems = ['9.png', '10.png', 'nested/1.png'].map((p) => create(ItemSchema, { path: `to_predict/${p}`, imageId: p.split('/').pop() }));
  const manifest = create(DatasetManifestSchema, { dataDir: dir, vocab: ['blue', 'red'], items, testItems, testOrder: 'sample', splitSeed: 42, validPct: 0.2 });
  runDir = join(dir, 'run');
  await train({
    manifest,
    training: { arch: 'resnet-tiny', epochs: 1, batchSize: 8, lrMax: 1e-2, wd: 0.01, pctStart: 0.25, div: 25, divFinal: 1e5, moms: [0.95, 0.85, 0.95], seed: 7, device: 'cpu', threads: 2 },
    presize: { size: 20, method: 'squish' },
    augment: { size: 16, minScale: 0.75 },
    outDir: runDir,
  });
  writeFileSync(join(runDir, 'manifest.json'), JSON.stringify(toJson(DatasetManifestSchema, manifest)));
  const images = join(dir, 'to_predict', 'nested');
  mkdirSync(images, { recursive: true });
  for (const name of ['10.png', '9.png']) await sharp({ create: { width: 20, height: 16, channels: 3, background: colour('red', 1) } }).png().toFile(join(dir, 'to_predict', name));
  await sharp({ create: { width: 20, height: 16, channels: 3, background: colour('blue', 1) } }).png().toFile(join(images, '1.png'));
}, 120_000);

describe('paddock predict', () => {
  it('writes path,label,probability and one column per class, folder in sorted path order, with TTA too', async () => {
    for (const tta of [[], ['--tta', '--tta-n', '2']]) {
      const r = await paddock(['predict', '--model', join(runDir, 'model.onnx'), '--folder', join(dir, 'to_predict'), ...tta]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('path,label,probability,blue,red');
      expect(lines.slice(1).map((l) => l.split(',')[0].slice(join(dir, 'to_predict').length + 1))).toEqual(['10.png', '9.png', 'nested/1.png']);
      for (const l of lines.slice(1)) {
        const [, label, p, blue, red] = l.split(',');
        expect(Number(blue) + Number(red)).toBeCloseTo(1, 5);
        expect(Number(p)).toBe(Math.max(Number(blue), Number(red)));
        expect(label).toBe(Number(blue) >= Number(red) ? 'blue' : 'red');
      }
    }
  }, 60_000);

  it('exits 2 when given neither a folder nor files', async () => {
    const r = await paddock(['predict', '--model', join(runDir, 'model.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--folder');
    const noModel = await paddock(['predict', '--model', join(dir, 'nope.onnx'), join(dir, 'to_predict', '9.png')]);
    expect([noModel.code, noModel.stderr.trim()]).toEqual([2, `paddock: predict: ${join(dir, 'nope.onnx')} does not exist; --model takes an exported model.onnx (a run folder's model.onnx)`]);
    const noFolder = await paddock(['predict', '--model', join(runDir, 'model.onnx'), '--folder', join(dir, 'nope')]);
    expect([noFolder.code, noFolder.stderr.trim()]).toEqual([2, `paddock: predict: ${join(dir, 'nope')} is not a folder; --folder takes a folder of images`]);
  }, 30_000);
});

describe('paddock report', () => {
  it('writes report.html for a run folder and lists what it found', async () => {
    const r = await paddock(['report', runDir]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.report).toBe(join(runDir, 'report.html'));
    // The training stage wrote metrics.csv and its per-batch loss.png; nothing else yet.
    expect(out.included).toEqual(['metrics.csv', 'loss.png']);
    expect(out.missing).toContain('evaluation.json');
    const html = readFileSync(out.report, 'utf8');
    expect(html).toContain('<table id="epochs">');
    expect(html).toContain('alt="loss curve"');
  }, 30_000);

  it('exits 2 for a folder that does not exist', async () => {
    const r = await paddock(['report', join(dir, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(dir, 'nope'));
    expect(existsSync(join(dir, 'nope'))).toBe(false);
  }, 30_000);
});

describe('paddock submit', () => {
  it("writes the run's submission.csv in sample order with predict's labels, plain and with TTA", async () => {
    for (const tta of [[], ['--tta', '--tta-n', '2']]) {
      // TTA draws are seeded per position, so predict gets the files in the submission's order.
      const files = ['9.png', '10.png', 'nested/1.png'].map((p) => join(dir, 'to_predict', p));
      const predicted = await paddock(['predict', '--model', join(runDir, 'model.onnx'), ...tta, ...files]);
      const labelOf = new Map(predicted.stdout.trim().split('\n').slice(1).map((l) => [l.split(',')[0].split('/').pop()!, l.split(',')[1]]));
      const r = await paddock(['submit', runDir, ...tta]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ submission: join(runDir, 'submission.csv'), rows: 3, order: 'sample' });
      expect(out.tta).toEqual(tta.length ? { n: 2, beta: 0.25, useMax: false } : undefined);
      const lines = readFileSync(out.submission, 'utf8').trim().split('\n');
      expect(lines).toEqual(['image_id,label', ...['9.png', '10.png', '1.png'].map((id) => `${id},${labelOf.get(id)}`)]);
    }
  }, 90_000);

  it('exits 2 naming the missing file for a folder that is not a run', async () => {
    const r = await paddock(['submit', join(dir, 'to_predict')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(dir, 'to_predict', 'manifest.json'));
  }, 30_000);
});
