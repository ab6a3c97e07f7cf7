// Flag parsing shared by the commands: numbers, and the recipe flags (which override a recipe
// file, which overrides the defaults).
import { Command, InvalidArgumentError, Option } from 'commander';
import { knownArchs, mergeRecipe, parseRecipe, readRecipeFile, type Recipe, type RecipeInput } from './recipe.ts';

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
  pretrained?: string;
  size?: number;
  presize?: number;
  method?: string;
  minScale?: number;
  seed?: number;
  validPct?: number;
  device?: string;
  threads?: number;
  /** Submission with TTA (evaluation.tta: true). */
  tta?: boolean;
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
      ...(flags.pretrained !== undefined && { pretrained: flags.pretrained }),
      ...(flags.seed !== undefined && { seed: flags.seed }),
      ...(flags.device !== undefined && { device: flags.device as 'cpu' }),
      ...(flags.threads !== undefined && { threads: flags.threads }),
    },
    // --tta keeps a recipe's own TTA settings (n, beta, useMax) and only switches it on.
    evaluation: { ...(flags.tta && typeof fromFile.evaluation?.tta !== 'object' && { tta: true }) },
  };
  return parseRecipe(mergeRecipe(mergeRecipe(base, fromFile), fromFlags), flags.recipe ? `${flags.recipe} (with the command-line flags)` : 'the recipe from the command-line flags') as Recipe;
}

export function recipeOptions(cmd: Command): Command {
  return cmd
    .option('--recipe <file>', 'recipe file (YAML or JSON); flags override its values')
    .option('--epochs <n>', 'epochs (fit_one_cycle, or fine_tune\'s unfrozen epochs)', number('--epochs'))
    .option('--lr <x>', 'peak learning rate of the one-cycle schedule (training.lrMax)', number('--lr'))
    .option('--batch-size <n>', 'training batch size', number('--batch-size'))
    .addOption(new Option('--arch <name>', 'architecture').choices(knownArchs))
    .option('--pretrained <model.onnx>', 'fine-tune this ONNX image classifier (cut at its global pool, fastai head) instead of --arch; schedule fine_tune(epochs, base_lr = --lr)')
    .option('--size <px>', 'model input size (augmentation output)', number('--size'))
    .option('--presize <px>', 'item-transform size before augmentation', number('--presize'))
    .addOption(new Option('--method <m>', 'presize Resize method').choices(['squish', 'crop', 'pad']))
    .option('--min-scale <x>', 'random-resized-crop minimum area fraction', number('--min-scale'))
    .option('--seed <n>', 'seed of the split, the shuffles and the augmentation', number('--seed'))
    .option('--valid-pct <x>', 'fraction held out for validation', number('--valid-pct'))
    .addOption(new Option('--device <d>', 'execution provider').choices(['cpu', 'cuda', 'auto']))
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', number('--threads'));
}

/** Recipe flags given on the command line (what --resume refuses: a resumed run keeps its recipe). */
export function recipeFlagsGiven(flags: Partial<RunFlags>): string[] {
  const names: [keyof RunFlags, string][] = [['recipe', '--recipe'], ['epochs', '--epochs'], ['lr', '--lr'], ['batchSize', '--batch-size'], ['arch', '--arch'], ['size', '--size'], ['presize', '--presize'], ['method', '--method'], ['minScale', '--min-scale'], ['seed', '--seed'], ['validPct', '--valid-pct'], ['device', '--device'], ['threads', '--threads']];
  return names.filter(([k]) => flags[k] !== undefined).map(([, n]) => n);
}
