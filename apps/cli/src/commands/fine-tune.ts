// `paddock fine-tune --data DIR`: fastai's fine_tune(epochs, base_lr, freeze_epochs, lr_mult,
// pct_start, div) as the run's schedule, otherwise exactly `paddock train`.
import type { Command } from 'commander';
import { number, recipeFrom, recipeOptions, type RunFlags } from '../options.ts';
import type { RecipeInput } from '../recipe.ts';
import { prepareRun, summary, trainRun } from './train.ts';

interface FineTuneFlags extends RunFlags {
  baseLr?: number;
  freezeEpochs?: number;
  lrMult?: number;
  pctStart?: number;
  div?: number;
}

export function register(program: Command): void {
  recipeOptions(
    program
      .command('fine-tune')
      .description('ingest → fine_tune: freeze, fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99), unfreeze, fit_one_cycle(epochs, slice(base_lr/2/lr_mult, base_lr/2), pct_start, div) → <out>/<run-id>/ (resumable with paddock train --resume)')
      .requiredOption('--data <dir>', 'dataset folder in the Kaggle layout (train_images/<label>/…)')
      .option('--out <dir>', 'where run folders go', 'runs')
      .option('--run-id <id>', 'run folder name (default: <dataset>-<timestamp>)')
      .option('--base-lr <x>', 'fine_tune base_lr (fastai default 2e-3)', number('--base-lr'))
      .option('--freeze-epochs <n>', 'epochs with the body frozen (default 1)', number('--freeze-epochs'))
      .option('--lr-mult <x>', 'body lr = head lr / lr_mult in the unfrozen phase (default 100)', number('--lr-mult'))
      .option('--pct-start <x>', 'warm-up fraction of the unfrozen phase (default 0.3)', number('--pct-start'))
      .option('--div <x>', 'start lr = lr_max/div in the unfrozen phase (default 5)', number('--div')),
  ).action(async (flags: FineTuneFlags) => {
    const base = recipeFrom(flags);
    const fineTune = {
      epochs: base.training.epochs,
      ...(flags.baseLr !== undefined && { baseLr: flags.baseLr }),
      ...(flags.freezeEpochs !== undefined && { freezeEpochs: flags.freezeEpochs }),
      ...(flags.lrMult !== undefined && { lrMult: flags.lrMult }),
      ...(flags.pctStart !== undefined && { pctStart: flags.pctStart }),
      ...(flags.div !== undefined && { div: flags.div }),
    };
    const recipe = recipeFrom(flags, { training: { schedule: [{ fineTune }] } } as RecipeInput);
    const p = await prepareRun(flags.data, flags.out, flags.runId, recipe);
    process.stdout.write(summary(p, await trainRun(p)));
  });
}
