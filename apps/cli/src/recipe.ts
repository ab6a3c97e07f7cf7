// A recipe: every choice of a run as plain data, validated before any work starts. Flags and a
// recipe file (YAML or JSON) both produce one; defaults follow fastai unless a comment says why.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { architectures, type LrSlice, type PlanStep } from '@paddock/learner';

/** The architectures the engine can build (Paddock's resnets, plus whatever libs/learner registers). */
export const knownArchs = Object.keys(architectures) as [string, ...string[]];

const positive = z.number().positive();
/** A learning rate: one for every group, one per group (body, head), or {slice: [b]} / {slice: [a, b]} as fastai's slice(b) / slice(a, b). */
const lrSpec = z.union([
  positive,
  z.array(positive).min(1),
  z.object({ slice: z.union([z.tuple([positive]), z.tuple([positive, positive])]) }).strict().transform(({ slice }): LrSlice => (slice.length === 1 ? { stop: slice[0] } : { start: slice[0], stop: slice[1] })),
  // The parsed form (what recipe.json holds), so a written recipe reads back unchanged.
  z.object({ start: positive.optional(), stop: positive }).strict(),
]);
const moms = z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1), z.number().min(0).lt(1)]);
const epochs = z.number().int().positive();
const oneCycleShape = { div: positive.optional(), divFinal: positive.optional(), pctStart: z.number().min(0).max(1).optional(), moms: moms.optional() };
const lrFindShape = { startLr: positive.optional(), endLr: positive.optional(), numIt: z.number().int().positive().optional(), stopDiv: z.boolean().optional() };

/** One schedule step: an object with exactly one of these keys (fastai's calls, in order). */
const step = z
  .object({
    fit: z.object({ epochs, lr: lrSpec.optional() }).strict().optional(),
    fitOneCycle: z.object({ epochs, lrMax: lrSpec.optional(), ...oneCycleShape }).strict().optional(),
    fineTune: z.object({ epochs, baseLr: positive.optional(), freezeEpochs: z.number().int().min(0).optional(), lrMult: positive.optional(), pctStart: z.number().min(0).max(1).optional(), div: positive.optional() }).strict().optional(),
    freeze: z.literal(true).optional(),
    unfreeze: z.literal(true).optional(),
    lrFind: z.object(lrFindShape).strict().optional(),
  })
  .strict()
  .refine((s) => Object.values(s).filter((v) => v !== undefined).length === 1, { message: 'a schedule step has exactly one of fit, fitOneCycle, fineTune, freeze, unfreeze, lrFind' })
  .transform((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as PlanStep);

const metricName = z.string().regex(/^(error_rate|accuracy|top_k_accuracy|top_\d+_accuracy)$/, { message: 'a metric is one of error_rate, accuracy, top_k_accuracy, top_<k>_accuracy' });

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
        /** Path of an ONNX image classifier to fine-tune (fastai's vision_learner on a pretrained body); replaces arch. */
        pretrained: z.string().min(1).optional(),
        arch: z.enum(knownArchs).default('resnet-small'),
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
        /** The plan; absent: fit_one_cycle(epochs, lrMax, pctStart, div, divFinal, moms). */
        schedule: z.array(step).min(1).optional(),
        metrics: z.array(metricName).min(1).default(['error_rate']),
        earlyStopping: z.object({ monitor: z.string().optional(), patience: z.number().int().positive().optional(), minDelta: z.number().min(0).optional() }).strict().optional(),
        saveModel: z.object({ monitor: z.string().optional(), minDelta: z.number().min(0).optional() }).strict().optional(),
        /** fastai GradientClip(max_norm): clip the global L2 norm of the gradients before each optimizer step; absent: no clipping. */
        gradClip: z.number().positive().optional(),
        /** fastai to_fp16: float16 forward/backward, float32 master weights, dynamic loss scaling; CUDA only (on CPU it only adds casts). */
        fp16: z.boolean().default(false),
      })
      .strict()
      .prefault({})
      .superRefine((t, ctx) => {
        if (t.fp16 && t.device === 'cpu') ctx.addIssue({ code: 'custom', path: ['fp16'], message: 'mixed precision (fp16) needs the CUDA execution provider: ORT\'s CPU provider runs float16 nodes through float32 casts, so it is no faster; set training.device: cuda (or auto), or training.fp16: false' });
        const monitors = ['valid_loss', 'train_loss', ...t.metrics.map((m) => (m === 'top_k_accuracy' ? 'top_5_accuracy' : m))];
        for (const key of ['earlyStopping', 'saveModel'] as const) {
          const monitor = t[key]?.monitor;
          if (monitor !== undefined && !monitors.includes(monitor)) ctx.addIssue({ code: 'custom', path: [key, 'monitor'], message: `"${monitor}" is not recorded (allowed: ${monitors.map((m) => JSON.stringify(m)).join(', ')})` });
        }
      }),
    evaluation: z
      .object({
        /** Test-time augmentation (fastai tta: n passes, blended with the plain prediction by beta, or their max with useMax).
         *  The evaluation always reports TTA next to the plain score (with these n/beta); this switches the submission to TTA. */
        tta: z.union([z.boolean(), z.object({ n: z.number().int().positive().default(4), beta: z.number().min(0).max(1).default(0.25), useMax: z.boolean().default(false) }).strict()]).default(false),
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
