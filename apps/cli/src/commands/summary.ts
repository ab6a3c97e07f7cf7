// `paddock summary --data DIR [--item PATH]`: fastai's DataBlock.summary — one item through every
// step (read, decode, presize, augment, validation transform) with each output's dtype, shape and
// value range; when a step fails, which one and why (exit code 2).
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { walkItem, type Step } from '@paddock/augment';
import { ingest } from '@paddock/ingestion';
import { number, recipeFrom } from '../options.ts';

interface SummaryFlags {
  data: string;
  item?: string;
  recipe?: string;
  seed?: number;
}

export class SummaryError extends Error {
  readonly exitCode = 2;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));

export function formatStep(s: Step): string {
  if (!s.ok) return `${s.step.padEnd(10)} FAILED: ${s.detail}`;
  const range = s.range ? `, values ${fmt(s.range[0])}..${fmt(s.range[1])}` : '';
  const mean = s.mean !== undefined ? ` (mean ${fmt(s.mean)})` : '';
  return `${s.step.padEnd(10)} ${s.dtype} [${s.shape?.join(', ')}]${range}${mean}; ${s.detail}`;
}

export function register(program: Command): void {
  program
    .command('summary')
    .description('walk one item through decode, presize, augment and normalise, printing shapes, dtypes and value ranges')
    .requiredOption('--data <dir>', 'dataset folder in the Kaggle layout')
    .option('--item <path>', 'the file to walk (relative to --data, or absolute); default: the first training item')
    .option('--recipe <file>', 'recipe file (YAML or JSON)')
    .option('--seed <n>', 'seed of the presize position and augmentation draw', number('--seed'))
    .action(async (flags: SummaryFlags) => {
      const recipe = recipeFrom({ recipe: flags.recipe, seed: flags.seed });
      let path: string;
      let label = '';
      if (flags.item) {
        path = isAbsolute(flags.item) ? flags.item : resolve(flags.data, flags.item);
      } else {
        const manifest = await ingest({ dataDir: flags.data, validPct: recipe.dataset.validPct, seed: recipe.dataset.seed });
        const first = manifest.items[0];
        path = join(manifest.dataDir, first.path);
        label = first.label;
        const problems = manifest.audit?.problems.filter((p) => !p.kept) ?? [];
        process.stdout.write(`dataset    ${manifest.items.length} labelled items, ${manifest.vocab.length} labels; ${problems.length} file(s) left out (see the audit)\n`);
      }
      process.stdout.write(`item       ${path}${label ? ` (label ${label})` : ''}\n`);
      const steps = await walkItem(path, recipe.presize, recipe.augment, { seed: recipe.training.seed });
      for (const s of steps) process.stdout.write(`${formatStep(s)}\n`);
      const failed = steps.find((s) => !s.ok);
      if (failed) throw new SummaryError(`summary: ${path} fails at step "${failed.step}": ${failed.detail}`);
    });
}
