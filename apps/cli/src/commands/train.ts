// `paddock train --data DIR`: ingest and train only (the recipe's schedule, checkpoint every
// epoch), writing <out>/<run-id>/; `paddock train --resume RUNDIR` continues a killed run from its
// checkpoint.bin with the run's own recipe and data, ending as the uninterrupted run would.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { DatasetManifest } from '@paddock/contracts';
import { ingest, writeManifest } from '@paddock/ingestion';
import { consoleProgress } from '@paddock/learner';
import { train, type Trained } from '@paddock/training';
import { recipeFlagsGiven, recipeFrom, recipeOptions, type RunFlags } from '../options.ts';
import { RecipeError, parseRecipe, type Recipe } from '../recipe.ts';

const log = (m: string) => process.stderr.write(`${m}\n`);

export interface Prepared {
  runDir: string;
  manifest: DatasetManifest;
  recipe: Recipe;
}

/** Ingest the data folder and write manifest, audit and the run's arguments (what --resume reads back). */
export async function prepareRun(dataDir: string, outDir: string, runId: string | undefined, recipe: Recipe): Promise<Prepared> {
  const id = runId ?? `${basename(resolve(dataDir))}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const runDir = resolve(outDir, id);
  const manifest = await ingestQuietly(dataDir, recipe);
  mkdirSync(runDir, { recursive: true });
  await writeManifest(manifest, runDir);
  writeFileSync(join(runDir, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
  writeFileSync(join(runDir, 'train-args.json'), `${JSON.stringify({ dataDir: resolve(dataDir), recipe }, null, 2)}\n`);
  return { runDir, manifest, recipe };
}

async function ingestQuietly(dataDir: string, recipe: Recipe): Promise<DatasetManifest> {
  let shown = 0;
  const manifest = await ingest({
    dataDir,
    validPct: recipe.dataset.validPct,
    seed: recipe.dataset.seed,
    onProgress: (done, total) => {
      if (done === total || done - shown >= 250) {
        shown = done;
        log(`ingest: ${done}/${total} files`);
      }
    },
  });
  log(`ingest: ${manifest.audit?.trainCount} train, ${manifest.audit?.validCount} valid images; ${manifest.vocab.length} labels`);
  return manifest;
}

export async function trainRun(p: Prepared, resume = false): Promise<Trained> {
  return train({ manifest: p.manifest, training: p.recipe.training, presize: p.recipe.presize, augment: p.recipe.augment, outDir: p.runDir, resume, progress: consoleProgress(), log });
}

/** The run folder's own data and recipe, for --resume. */
export async function reopenRun(runDir: string): Promise<Prepared> {
  const argsPath = join(resolve(runDir), 'train-args.json');
  if (!existsSync(argsPath)) throw new RecipeError(`${argsPath}: not found; --resume takes a run folder written by paddock train or paddock fine-tune`);
  const args = JSON.parse(readFileSync(argsPath, 'utf8')) as { dataDir: string; recipe: unknown };
  const recipe = parseRecipe(args.recipe, argsPath);
  return { runDir: resolve(runDir), manifest: await ingestQuietly(args.dataDir, recipe), recipe };
}

export function summary(p: Prepared, t: Trained): string {
  const last = t.history[t.history.length - 1];
  return `${JSON.stringify({ runDir: p.runDir, modelPath: t.modelPath, epochs: t.history.length, errorRate: last?.errorRate, validLoss: last?.validLoss, lrFind: t.lrFindPaths })}\n`;
}

export function register(program: Command): void {
  recipeOptions(
    program
      .command('train')
      .description('ingest → train (the recipe\'s schedule: fit_one_cycle by default, or fine_tune / freeze / unfreeze / lr_find steps) → model.onnx, metrics.csv, loss.png and a checkpoint.bin after every epoch, in <out>/<run-id>/')
      .option('--data <dir>', 'dataset folder in the Kaggle layout (train_images/<label>/…); required unless --resume')
      .option('--out <dir>', 'where run folders go', 'runs')
      .option('--run-id <id>', 'run folder name (default: <dataset>-<timestamp>)')
      .option('--resume <run-dir>', 'continue a killed run from <run-dir>/checkpoint.bin with its own recipe and data (no other recipe flags)'),
  ).action(async (flags: Partial<RunFlags> & { resume?: string }) => {
    if (flags.resume) {
      const extra = recipeFlagsGiven(flags);
      if (extra.length || flags.data) throw new RecipeError(`--resume continues the run with its own recipe and data; drop ${[...extra, ...(flags.data ? ['--data'] : [])].join(', ')}`);
      const p = await reopenRun(flags.resume);
      process.stdout.write(summary(p, await trainRun(p, true)));
      return;
    }
    if (!flags.data) throw new RecipeError('--data <dir> is required (or --resume <run-dir>)');
    const p = await prepareRun(flags.data, flags.out ?? 'runs', flags.runId, recipeFrom(flags));
    process.stdout.write(summary(p, await trainRun(p)));
  });
}
