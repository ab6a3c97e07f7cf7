// `paddock run --data DIR`: the whole pipeline in one process.
import type { Command } from 'commander';
import { recipeFrom, recipeOptions, type RunFlags } from '../options.ts';
import { run } from '../run.ts';

export function register(program: Command): void {
  recipeOptions(
    program
      .command('run')
      .description('ingest → presize/augment → train → evaluate → submit, in one process; writes <out>/<run-id>/')
      .requiredOption('--data <dir>', 'dataset folder in the Kaggle layout (train_images/<label>/…, test_images/, sample_submission.csv)')
      .option('--out <dir>', 'where run folders go', 'runs')
      .option('--run-id <id>', 'run folder name (default: <dataset>-<timestamp>)')
      .option('--tta', "submission from test-time-augmented predictions (fastai's tta; the evaluation reports TTA next to the plain score either way)"),
  ).action(async (flags: RunFlags) => {
    const recipe = recipeFrom(flags);
    const result = await run({ dataDir: flags.data, outDir: flags.out, runId: flags.runId, recipe });
    process.stdout.write(`${JSON.stringify({ runDir: result.runDir, errorRate: result.errorRate, accuracy: result.accuracy, submissionRows: result.submissionRows, seconds: Math.round(result.seconds) })}\n`);
  });
}
