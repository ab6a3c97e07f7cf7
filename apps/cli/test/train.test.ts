// paddock train / fine-tune / lr-find: the recipes shipped in recipes/ validate (or fail with the
// field and the fix), bad schedules fail before any work, --help documents every option, and the
// commands run on a small generated dataset, including --resume.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeRecipe, parseRecipe, readRecipeFile, type RecipeInput } from '../src/recipe.ts';
import { colourTrainImages, paddock } from './support.ts';

const recipes = join(import.meta.dirname, '../../../recipes');

describe('recipes', () => {
  it('every shipped recipe validates; the Paddy ones express their experiments', () => {
    const files = readdirSync(recipes).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) parseRecipe(readRecipeFile(join(recipes, f)), f);
    const manual = parseRecipe(readRecipeFile(join(recipes, 'paddy-manual.yaml')));
    expect(manual.training.schedule).toEqual([{ freeze: true }, { fitOneCycle: { epochs: 3, lrMax: 0.003 } }, { unfreeze: true }, { lrFind: {} }, { fitOneCycle: { epochs: 6, lrMax: 0.0001 } }]);
    const long = parseRecipe(readRecipeFile(join(recipes, 'paddy-fp16-long.yaml')));
    expect(long.training.schedule).toEqual([{ fineTune: { epochs: 14, baseLr: 0.01, freezeEpochs: 3 } }]);
    const convnext = parseRecipe(readRecipeFile(join(recipes, 'paddy-convnext-tta.yaml')));
    expect(convnext.presize).toMatchObject({ size: [480, 360], method: 'pad' });
    expect(convnext.augment.size).toEqual([256, 192]);
    expect(convnext.evaluation.tta).toEqual({ n: 4, beta: 0.25, useMax: false });
  });

  it('fp16 on CPU, unknown archs, bad schedule steps and slices fail with the field path and the allowed values', () => {
    const long = readRecipeFile(join(recipes, 'paddy-fp16-long.yaml')) as RecipeInput;
    expect(() => parseRecipe(mergeRecipe(long, { training: { device: 'cpu' } }))).toThrow(/training\.fp16: mixed precision \(fp16\) needs the CUDA/);
    expect(() => parseRecipe({ training: { arch: 'resnet26d' } })).toThrow(/training\.arch: .*"resnet-small", "resnet18", "resnet18-narrow", "resnet-tiny"/);
    expect(() => parseRecipe({ training: { schedule: [{ fineTune: { epochs: 3 }, unfreeze: true }] } })).toThrow(/training\.schedule\.0: a schedule step has exactly one of/);
    expect(() => parseRecipe({ training: { schedule: [{ fineTune: { epochs: 3, baseLR: 1 } }] } })).toThrow(/training\.schedule\.0\.fineTune: unknown field\(s\) baseLR/);
    expect(() => parseRecipe({ training: { schedule: [{ fitOneCycle: { epochs: 1, lrMax: { slice: [1, 2, 3] } } }] } })).toThrow(/training\.schedule\.0\.fitOneCycle\.lrMax/);
    expect(() => parseRecipe({ training: { metrics: ['f1'] } })).toThrow(/training\.metrics\.0: a metric is one of/);
    expect(() => parseRecipe({ training: { earlyStopping: { monitor: 'accuracy' } } })).toThrow(/training\.earlyStopping\.monitor: "accuracy" is not recorded \(allowed: "valid_loss", "train_loss", "error_rate"\)/);
    const slices = parseRecipe({ training: { schedule: [{ fitOneCycle: { epochs: 1, lrMax: { slice: [1e-5, 1e-3] } } }, { fit: { epochs: 1, lr: { slice: [1e-3] } } }] } });
    expect(slices.training.schedule).toEqual([{ fitOneCycle: { epochs: 1, lrMax: { start: 1e-5, stop: 1e-3 } } }, { fit: { epochs: 1, lr: { stop: 1e-3 } } }]);
    // A parsed recipe (recipe.json) reads back unchanged.
    expect(parseRecipe(JSON.parse(JSON.stringify(slices)))).toEqual(slices);
  });
});

describe('paddock train, fine-tune, lr-find', () => {
  it('--help documents every option', async () => {
    const [train, ft, lf] = await Promise.all([paddock(['train', '--help']), paddock(['fine-tune', '--help']), paddock(['lr-find', '--help'])]);
    for (const flag of ['--data', '--resume', '--recipe', '--epochs', '--lr', '--arch', '--device']) expect(train.stdout).toContain(flag);
    for (const flag of ['--base-lr', '--freeze-epochs', '--lr-mult', '--pct-start', '--div']) expect(ft.stdout).toContain(flag);
    for (const flag of ['--start-lr', '--end-lr', '--num-it', '--no-stop-div', '--freeze']) expect(lf.stdout).toContain(flag);
  }, 60_000);

  it('fine-tune writes a resumable run; train --resume of it keeps its history; lr-find writes its picture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-ft-'));
    await colourTrainImages(dir, 20, { width: 24, height: 20, format: 'png' });
    const out = join(dir, 'runs');
    const common = ['--data', dir, '--out', out, '--batch-size', '8', '--arch', 'resnet-tiny', '--presize', '20', '--size', '16', '--threads', '2'];
    const ft = await paddock(['fine-tune', ...common, '--run-id', 'ft', '--epochs', '1', '--base-lr', '0.01']);
    expect(ft.stderr).not.toMatch(/Error:/);
    expect(ft.code).toBe(0);
    const summary = JSON.parse(ft.stdout);
    expect(summary.epochs).toBe(2);
    const run = join(out, 'ft');
    for (const f of ['model.onnx', 'metrics.csv', 'loss.png', 'checkpoint.bin', 'recipe.json', 'train-args.json']) expect(existsSync(join(run, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'recipe.json'), 'utf8')).training.schedule).toEqual([{ fineTune: { epochs: 1, baseLr: 0.01 } }]);

    const again = await paddock(['train', '--resume', run]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ epochs: 2, errorRate: summary.errorRate, validLoss: summary.validLoss });
    const refused = await paddock(['train', '--resume', run, '--epochs', '3']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('drop --epochs');

    const lf = await paddock(['lr-find', ...common, '--run-id', 'lf', '--num-it', '10', '--end-lr', '1']);
    expect(lf.code).toBe(0);
    const found = JSON.parse(lf.stdout);
    expect(Object.keys(found.suggestions)).toEqual(['minimum', 'steep', 'valley', 'slide']);
    expect(lf.stderr).toMatch(/valley: /);
    expect(existsSync(join(out, 'lf', 'lr-find.png'))).toBe(true);
    writeFileSync(join(dir, 'bad.yaml'), 'training:\n  schedule:\n    - fineTune: {epochs: 0}\n');
    const bad = await paddock(['train', '--data', '/nonexistent', '--recipe', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('training.schedule.0.fineTune.epochs');
  }, 120_000);
});
