// `paddock show-batch --data DIR --out FILE.png`: fastai's show_batch — a grid of augmented
// training images with their labels, as the model gets them (presize + the augmentation graph).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { augmentedSamples } from '@paddock/augment';
import { Split } from '@paddock/contracts';
import { ingest } from '@paddock/ingestion';
import { imageGrid } from '@paddock/report';
import { number, recipeFrom } from '../options.ts';

interface ShowBatchFlags {
  data: string;
  out: string;
  recipe?: string;
  unique?: boolean;
  count: number;
  seed?: number;
}

export function register(program: Command): void {
  program
    .command('show-batch')
    .description('write a PNG grid of augmented training images with their labels (fastai show_batch)')
    .requiredOption('--data <dir>', 'dataset folder in the Kaggle layout')
    .requiredOption('--out <file>', 'the PNG to write')
    .option('--recipe <file>', 'recipe file (YAML or JSON): presize and augment settings')
    .option('--unique', 'one image under several augmentations')
    .option('--count <n>', 'how many images', number('--count'), 9)
    .option('--seed <n>', 'seed of the choice and of the augmentation draws', number('--seed'))
    .action(async (flags: ShowBatchFlags) => {
      const recipe = recipeFrom({ recipe: flags.recipe, seed: flags.seed });
      const manifest = await ingest({ dataDir: flags.data, validPct: recipe.dataset.validPct, seed: recipe.dataset.seed });
      const train = manifest.items.filter((it) => it.split === Split.TRAIN);
      const items = (train.length > 0 ? train : manifest.items).map((it) => ({ path: join(manifest.dataDir, it.path), label: it.label }));
      const samples = await augmentedSamples({ items, presize: recipe.presize, augment: recipe.augment, count: flags.count, unique: flags.unique, seed: recipe.training.seed });
      const grid = await imageGrid(
        samples.map((s) => ({ rgb: s.rgb, width: s.width, height: s.height, caption: s.label })),
        { columns: Math.ceil(Math.sqrt(samples.length)), title: flags.unique ? `${basename(samples[0].path)}, ${samples.length} augmentations` : `${samples.length} augmented training images` },
      );
      const out = resolve(flags.out);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, grid.png);
      process.stdout.write(`${JSON.stringify({ out, images: samples.length, labels: samples.map((s) => s.label), size: [samples[0].height, samples[0].width] })}\n`);
    });
}
