// Flag parsing shared by the commands: numbers, and the recipe flags (which override a recipe
// file, which overrides the defaults).
import { Command, InvalidArgumentError, Option } from 'commander';
import { mergeRecipe, parseRecipe, readRecipeFile, type Recipe, type RecipeInput } from './recipe.ts';

export const number = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
  return n;
};

export interface RunFlags {
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
export function recipeFrom(flags: Omit<RunFlags, 'data' | 'out'>, base: RecipeInput = {}) {
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
  return parseRecipe(mergeRecipe(mergeRecipe(base, fromFile), fromFlags), flags.recipe ?? 'flags') as Recipe;
}

export function recipeOptions(cmd: Command): Command {
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
