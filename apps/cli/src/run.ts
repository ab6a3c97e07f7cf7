// `paddock run`: every stage in one process — ingest → presize/augment → train → evaluate →
// submit — calling the same library functions the services wrap, writing runs/<run-id>/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ingest, writeManifest } from '@paddock/ingestion';
import { evaluate, writeReportPage } from '@paddock/evaluation';
import { consoleProgress } from '@paddock/learner';
import { submit } from '@paddock/submission';
import { requireDevice } from '@paddock/runtime';
import { train } from '@paddock/training';
import type { Recipe } from './recipe.ts';

export interface RunOptions {
  dataDir: string;
  outDir: string;
  runId?: string;
  recipe: Recipe;
  log?: (message: string) => void;
}

export interface RunResult {
  runDir: string;
  errorRate: number;
  accuracy: number;
  epochs: { epoch: number; seconds: number; imagesPerSecond: number; errorRate: number }[];
  submissionRows: number;
  seconds: number;
}

function defaultRunId(dataDir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${basename(resolve(dataDir))}-${stamp}`;
}

export async function run(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const started = performance.now();
  const { recipe } = options;
  const runId = options.runId ?? defaultRunId(options.dataDir);
  const runDir = resolve(options.outDir, runId);

  await requireDevice(recipe.training.device);
  log(`paddock run ${runId}: ingesting ${resolve(options.dataDir)}`);
  let lastShown = 0;
  const manifest = await ingest({
    dataDir: options.dataDir,
    validPct: recipe.dataset.validPct,
    seed: recipe.dataset.seed,
    onProgress: (done, total) => {
      if (done === total || done - lastShown >= 250) {
        lastShown = done;
        log(`ingest: ${done}/${total} files`);
      }
    },
  });
  mkdirSync(runDir, { recursive: true });
  if (existsSync(join(runDir, 'model.onnx'))) log(`note: ${runDir} exists; its files are replaced`);
  await writeManifest(manifest, runDir);
  writeFileSync(join(runDir, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
  const audit = manifest.audit!;
  log(`ingest: ${audit.trainCount} train, ${audit.validCount} valid, ${audit.testCount} test images; ${manifest.vocab.length} labels (${manifest.vocab.join(', ')}); ${audit.problems.filter((p) => !p.kept).length} file(s) left out, ${audit.problems.filter((p) => p.kept).length} flagged and kept (near-duplicates), ${audit.duplicates.length} byte-identical group(s) — see audit.json`);
  for (const l of audit.labels.filter((l) => l.sizeOutlier)) log(`audit: every "${l.label}" image has a size no other label has; a model can learn the size instead of the content`);

  const trained = await train({
    manifest,
    training: recipe.training,
    presize: recipe.presize,
    augment: recipe.augment,
    outDir: runDir,
    progress: consoleProgress(),
    log,
  });
  log(`train: model.onnx written (${trained.device})`);

  // TTA is always reported next to the plain score; recipe.evaluation.tta decides what the submission uses.
  const tta = typeof recipe.evaluation.tta === 'object' ? recipe.evaluation.tta : undefined;
  const evaluation = await evaluate({ manifest, modelPath: trained.modelPath, outDir: runDir, runId, device: trained.device, tta });
  const scoredTta = evaluation.extras.tta;
  log(`evaluate: error rate ${evaluation.report.errorRate.toFixed(4)} (accuracy ${evaluation.report.accuracy.toFixed(4)}) on ${evaluation.report.items} validation images${scoredTta ? `; with TTA (n=${scoredTta.n}, beta=${scoredTta.beta}${scoredTta.useMax ? ', max' : ''}) ${scoredTta.errorRate.toFixed(4)}` : ''}`);

  let submissionRows = 0;
  if (manifest.testItems.length > 0) {
    const submitted = await submit({ manifest, modelPath: trained.modelPath, outDir: runDir, runId, device: trained.device, tta: recipe.evaluation.tta });
    submissionRows = submitted.created.rows;
    for (const u of submitted.unreadable) log(`submit: ${u.imageId} could not be read (${u.reason}); it gets the most frequent training label`);
    log(`submit: submission.csv with ${submissionRows} rows (${manifest.testOrder} order${recipe.evaluation.tta ? ', TTA' : ''})`);
  } else log('submit: no test_images folder, no submission written');

  const page = await writeReportPage({ runDir });
  log(`report: ${page.path}`);

  const seconds = (performance.now() - started) / 1000;
  log(`done in ${seconds.toFixed(0)} s: ${runDir}`);
  return {
    runDir,
    errorRate: evaluation.report.errorRate,
    accuracy: evaluation.report.accuracy,
    epochs: trained.history.map((h) => ({ epoch: h.epoch, seconds: h.seconds, imagesPerSecond: h.imagesPerSecond, errorRate: h.errorRate })),
    submissionRows,
    seconds,
  };
}
