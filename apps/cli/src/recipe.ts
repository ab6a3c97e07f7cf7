// A recipe: every choice of a run as plain data, validated before any work starts. Flags and a
// recipe file (YAML or JSON) both produce one; defaults follow fastai unless a comment says why.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const size = z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]);

export const recipeSchema = z
  .object({
    dataset: z
      .object({
        /** fastai RandomSplitter(valid_pct=0.2, seed=42). */
        validPct: z.number().min(0).lt(1).default(0.2),
        seed: z.number().int().min(0).default(42),
      })
      .strict()
      .prefault({}),
    presize: z
      .object({
        /** Item-transform size; larger than the batch size so augmentation has room (fastai's presizing). */
        size: size.default(160),
        /** The issue's default (fastai's Resize default is crop). */
        method: z.enum(['squish', 'crop', 'pad']).default('squish'),
        padMode: z.enum(['zeros', 'border', 'reflection']).default('reflection'),
      })
      .strict()
      .prefault({}),
    augment: z
      .object({
        size: size.default(128),
        minScale: z.number().gt(0).max(1).default(0.75),
        doFlip: z.boolean().default(true),
        flipVert: z.boolean().default(false),
        maxRotate: z.number().min(0).default(10),
        minZoom: z.number().positive().default(1),
        maxZoom: z.number().positive().default(1.1),
        maxWarp: z.number().min(0).default(0.2),
        pAffine: z.number().min(0).max(1).default(0.75),
        maxLighting: z.number().min(0).lt(1).default(0.2),
        pLighting: z.number().min(0).max(1).default(0.75),
        mean: z.tuple([z.number(), z.number(), z.number()]).default([0.485, 0.456, 0.406]),
        std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.229, 0.224, 0.225]),
      })
      .strict()
      .prefault({}),
    training: z
      .object({
        arch: z.enum(['resnet-small', 'resnet18-narrow', 'resnet-tiny']).default('resnet-small'),
        epochs: z.number().int().positive().default(12),
        batchSize: z.number().int().positive().default(32),
        /** fastai's default lr is 1e-3; from-scratch training of a small net takes a larger peak. */
        lrMax: z.number().positive().default(3e-3),
        wd: z.number().min(0).default(0.01),
        pctStart: z.number().gt(0).lt(1).default(0.25),
        div: z.number().positive().default(25),
        divFinal: z.number().positive().default(1e5),
        moms: z.tuple([z.number(), z.number(), z.number()]).default([0.95, 0.85, 0.95]),
        seed: z.number().int().min(0).default(42),
        device: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
        threads: z.number().int().positive().optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Recipe = z.infer<typeof recipeSchema>;
export type RecipeInput = z.input<typeof recipeSchema>;

export class RecipeError extends Error {
  readonly exitCode = 2;
}

/** Validate; on failure say which field, what was given and what is allowed. */
export function parseRecipe(input: unknown, source = 'recipe'): Recipe {
  const result = recipeSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.join('.') || '(top level)';
    const detail = issue.code === 'invalid_value' && 'values' in issue ? `${issue.message} (allowed: ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')})` : issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
    return `  ${path}: ${detail}`;
  });
  throw new RecipeError(`${source} is not a valid recipe:\n${lines.join('\n')}\nFix the field(s) above; recipes/README.md documents every field.`);
}

export function readRecipeFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RecipeError(`${path}: cannot read the recipe file (${(error as Error).message})`);
  }
  try {
    return /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RecipeError(`${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'} (${(error as Error).message})`);
  }
}

/** Deep-merge b over a (plain objects only; arrays replace). */
export function mergeRecipe(a: RecipeInput, b: RecipeInput): RecipeInput {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev) ? mergeRecipe(prev as RecipeInput, v as RecipeInput) : v;
  }
  return out as RecipeInput;
}
