// `paddock lr-find --data DIR`: fastai's lr_find on the recipe's model and data; writes
// lr-find.png (loss vs lr, log scale, suggestions marked) and lr-find.json, prints the suggestions.
import type { Command } from 'commander';
import { formatSuggestions } from '@paddock/learner';
import { findLr } from '@paddock/training';
import { number, recipeFrom, recipeOptions, type RunFlags } from '../options.ts';
import { prepareRun } from './train.ts';

interface LrFindFlags extends RunFlags {
  startLr: number;
  endLr: number;
  numIt: number;
  stopDiv: boolean;
  freeze?: boolean;
}

export function register(program: Command): void {
  recipeOptions(
    program
      .command('lr-find')
      .description('ingest → lr_find: lr grows exponentially per batch, the smoothed loss is recorded; weights are restored afterwards → <out>/<run-id>/lr-find.png and lr-find.json, suggestions (minimum, steep, valley, slide) printed')
      .requiredOption('--data <dir>', 'dataset folder in the Kaggle layout (train_images/<label>/…)')
      .option('--out <dir>', 'where run folders go', 'runs')
      .option('--run-id <id>', 'run folder name (default: <dataset>-<timestamp>)')
      .option('--start-lr <x>', 'first learning rate', number('--start-lr'), 1e-7)
      .option('--end-lr <x>', 'last learning rate', number('--end-lr'), 10)
      .option('--num-it <n>', 'batches in the sweep (at least 6)', number('--num-it'), 100)
      .option('--no-stop-div', 'keep going when the smoothed loss exceeds 4× its best')
      .option('--freeze', 'sweep with the body frozen (only the head and BatchNorm train), as after freeze()'),
  ).action(async (flags: LrFindFlags) => {
    const p = await prepareRun(flags.data, flags.out, flags.runId, recipeFrom(flags));
    const found = await findLr({
      manifest: p.manifest, training: p.recipe.training, presize: p.recipe.presize, augment: p.recipe.augment, outDir: p.runDir,
      lrFind: { startLr: flags.startLr, endLr: flags.endLr, numIt: flags.numIt, stopDiv: flags.stopDiv }, frozen: flags.freeze,
    });
    process.stderr.write(`${formatSuggestions(found.result.suggestions)}\n`);
    const suggestions = Object.fromEntries(Object.entries(found.result.suggestions).map(([k, v]) => [k, v.lr]));
    process.stdout.write(`${JSON.stringify({ runDir: p.runDir, plot: found.plotPath, iterations: found.result.lrs.length, diverged: found.result.diverged, suggestions })}\n`);
  });
}
