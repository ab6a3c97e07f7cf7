// evaluate() on a real model and real files: evaluation.json (plain and TTA scores, top-k, F1,
// top losses) and the interpretation pictures; then the run folder as one HTML page, rendered in
// headless Chromium, screenshotted, and checked for the run's numbers and loaded images.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DatasetManifestSchema, ItemSchema } from '@paddock/contracts';
import { linePlot } from '@paddock/report';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, writeReportPage, type Evaluation } from '../src/index.ts';
import { tinyRun, type TinyRun } from './tiny-run.ts';
import { fromJson } from '@bufbuild/protobuf';
import { EvaluationReportSchema } from '@paddock/contracts';

const CHROMIUM = '/usr/bin/chromium';
let run: TinyRun;
let outDir: string;
let evaluation: Evaluation;
const mislabelled = 'train_images/red/red_16.png';

beforeAll(async () => {
  run = await tinyRun();
  // One red validation image labelled "blue": a known error, a known confused pair, a known top loss.
  const items = run.manifest.items.map((i) => (i.path === mislabelled ? create(ItemSchema, { ...i, label: 'blue', labelId: 0 }) : i));
  const manifest = create(DatasetManifestSchema, { ...run.manifest, items });
  outDir = mkdtempSync(join(tmpdir(), 'paddock-eval-run-'));
  evaluation = await evaluate({ manifest, modelPath: run.modelPath, outDir, runId: 'tiny-run', topLosses: 4 });
}, 120_000);

describe('evaluate', () => {
  it('writes the contract fields, top-k, F1, and TTA next to the plain score', () => {
    const json = JSON.parse(readFileSync(evaluation.files.json, 'utf8'));
    // The file is the contract: a strict protobuf JSON parse accepts every key.
    const parsed = fromJson(EvaluationReportSchema, json);
    expect(parsed.tta?.n).toBe(json.tta.n);
    expect(parsed.perClass.map((c) => c.f1)).toEqual(parsed.vocab.map((label) => json.f1[label]));
    expect(json.runId).toBe('tiny-run');
    expect(json.items).toBe(10);
    expect(json.errorRate).toBeCloseTo(0.1, 12);
    expect(json.accuracy).toBeCloseTo(0.9, 12);
    expect(json.vocab).toEqual(['blue', 'red']);
    // rows actual, columns predicted: 5 blue right, the relabelled red as blue → predicted red.
    expect(json.confusionMatrix).toEqual([5, 1, 0, 4]);
    expect(json.mostConfused).toEqual([{ actual: 'blue', predicted: 'red', count: 1 }]);
    expect(json.perClass).toMatchObject([
      { label: 'blue', precision: 1, recall: 5 / 6, support: 6 },
      { label: 'red', precision: 0.8, recall: 1, support: 4 },
    ]);
    expect(json.perClass.map((c: { f1: number }) => c.f1)).toEqual([json.f1.blue, json.f1.red]);
    expect(json.f1.blue).toBeCloseTo(2 / (1 + 6 / 5), 12);
    expect(json.f1.red).toBeCloseTo(2 * 0.8 / 1.8, 12);
    expect(json.topKAccuracy).toEqual({ '1': 0.9, '2': 1 });
    expect(json.tta).toMatchObject({ n: 4, beta: 0.25, useMax: false, seed: 7 });
    expect(json.tta.errorRate).toBeCloseTo(0.1, 12);
    expect(json.tta.loss).not.toBe(json.loss);
    expect(json.topLosses).toHaveLength(4);
    expect(json.topLosses[0]).toMatchObject({ path: mislabelled, actual: 'blue', predicted: 'red' });
    expect(json.topLosses[0].loss).toBeGreaterThan(Math.log(2));
    for (let i = 1; i < 4; i++) expect(json.topLosses[i].loss).toBeLessThanOrEqual(json.topLosses[i - 1].loss);
  });

  it('draws the confusion matrices, the most-confused bars and a 3-column top-losses grid', async () => {
    for (const f of [evaluation.files.confusionMatrix, evaluation.files.confusionMatrixNormalized, evaluation.files.mostConfused, evaluation.files.topLosses]) {
      const meta = await sharp(f).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(200);
    }
    const grid = await sharp(evaluation.files.topLosses).metadata();
    // 4 images at 16 px → boxes of 96 px (enlarged 6×), 3 columns (≥ 10 + 3·106 px wide), 2 rows
    // of box + 3 caption lines (51 px) + gap under a 34 px title: 34 + 10 + 2·157.
    expect(grid.width).toBeGreaterThanOrEqual(328);
    expect(grid.height).toBe(358);
    // The bar of the single confused pair is drawn in tab:blue (#1f77b4) somewhere in its row.
    const { data, info } = await sharp(evaluation.files.mostConfused).raw().toBuffer({ resolveWithObject: true });
    let blue = 0;
    for (let p = 0; p < info.width * info.height; p++) if (Math.abs(data[p * info.channels] - 0x1f) < 3 && Math.abs(data[p * info.channels + 2] - 0xb4) < 3) blue++;
    expect(blue).toBeGreaterThan(300 * 10);
  });
});

describe('paddock report page', () => {
  it('renders in headless Chromium with the run numbers and every image loaded', async () => {
    // The rest of a run folder, as the other stages write it.
    writeFileSync(join(outDir, 'recipe.json'), JSON.stringify({ training: { arch: 'resnet-tiny', epochs: 2 } }, null, 2));
    writeFileSync(join(outDir, 'audit.json'), JSON.stringify({ problems: [{ path: 'train_images/red/notes.jpg', kind: 'unreadable', reason: 'not an image', kept: false }], formatMismatches: [], labels: [{ label: 'blue', count: 21, sizes: [{ width: 20, height: 16, count: 21 }], sizeOutlier: false }, { label: 'red', count: 21, sizes: [{ width: 20, height: 16, count: 21 }], sizeOutlier: false }], duplicates: [], trainCount: 32, validCount: 10, testCount: 3 }));
    writeFileSync(join(outDir, 'metrics.csv'), 'epoch,train_loss,valid_loss,error_rate,accuracy,time_s,images_per_s\n0,0.812345,0.456789,0.2,0.8,1.20,26.7\n1,0.301234,0.123456,0.1,0.9,1.10,29.1\n');
    writeFileSync(join(outDir, 'submission.csv'), 'image_id,label\n10.png,red\n9.png,blue\n1.png,red\n');
    const lrFind = await linePlot([{ name: 'loss', x: [1e-5, 1e-4, 1e-3, 1e-2, 1e-1], y: [0.7, 0.69, 0.6, 0.4, 2] }], { title: 'lr_find', xLabel: 'learning rate', yLabel: 'loss', logX: true });
    writeFileSync(join(outDir, 'lr-find-1.png'), lrFind.png);
    const page = await writeReportPage({ runDir: outDir });
    expect(page.path).toBe(join(outDir, 'report.html'));
    // No loss.png from a training stage here: the page draws the per-epoch curve from metrics.csv.
    expect(page.missing).toEqual(['loss.png']);
    expect(page.included).toContain('lr-find-1.png');
    // Self-contained: no URL other than data: URIs.
    expect(page.html).not.toMatch(/(src|href)="(?!data:)/);
    const errorRate = JSON.stringify(JSON.parse(readFileSync(evaluation.files.json, 'utf8')).errorRate);
    expect(page.html).toContain(errorRate);

    if (!existsSync(CHROMIUM)) {
      console.warn(`skipping the Chromium rendering check: ${CHROMIUM} is not installed (apt-get install chromium)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    // A fresh profile per test run (Playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'paddock-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`file://${page.path}`, { waitUntil: 'load' });
      expect(await tab.title()).toBe('Paddock run tiny-run');
      expect(await tab.textContent('#error-rate')).toBe(errorRate);
      const tta = JSON.stringify(JSON.parse(readFileSync(evaluation.files.json, 'utf8')).tta.errorRate);
      expect(await tab.textContent('#tta-error-rate')).toBe(tta);
      expect(await tab.textContent('#epochs')).toContain('0.301234');
      expect(await tab.textContent('#submission-preview')).toContain('10.png');
      expect(await tab.textContent('#audit-counts')).toContain('32');
      // Runs in the page; typed structurally since this package compiles without the DOM lib.
      type Img = { getAttribute(name: string): string | null; naturalWidth: number; complete: boolean };
      const images = await tab.$$eval('img', (els) => (els as unknown as Img[]).map((e) => ({ alt: e.getAttribute('alt'), w: e.naturalWidth, complete: e.complete })));
      expect(images.map((i) => i.alt)).toEqual(['loss curve', 'lr-find curve (lr-find-1.png)', 'confusion matrix', 'confusion matrix, row-normalised', 'most confused pairs', 'top losses']);
      for (const i of images) {
        expect(i.complete).toBe(true);
        expect(i.w).toBeGreaterThan(0);
      }
      const shot = await tab.screenshot({ fullPage: true, type: 'png' });
      const meta = await sharp(shot).metadata();
      expect(meta.width).toBe(1200);
      expect(meta.height).toBeGreaterThan(1500);
      // Not blank: many distinct colours (text, plots, the heat map), not a white page.
      const stats = await sharp(shot).stats();
      expect(stats.channels[0].stdev).toBeGreaterThan(10);
      const { data } = await sharp(shot).resize(300, 400, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
      const colours = new Set<number>();
      for (let p = 0; p < data.length; p += 3) colours.add((data[p] >> 3) * 1024 + (data[p + 1] >> 3) * 32 + (data[p + 2] >> 3));
      expect(colours.size).toBeGreaterThan(50);
      writeFileSync(join(outDir, 'report-screenshot.png'), shot);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
