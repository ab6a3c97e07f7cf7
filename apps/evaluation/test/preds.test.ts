// get_preds and TTA with a real trained model.onnx: input order for folders (nested, 10 before 9)
// and file lists, targets and decoded label names, the float-input TTA path checked against the
// uint8 model, and the TTA blend recomputed from the augmented passes.
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Predictor, floatInputModel } from '@paddock/learner';
import { encodeModel, loadModel } from '@paddock/onnx';
import { presize } from '@paddock/vision';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy, blendTta, getImageFiles, getPreds } from '../src/index.ts';
import { colourImage, size, tinyRun, type TinyRun } from './tiny-run.ts';

let run: TinyRun;
let folder: string;
// Relative names in the order getImageFiles must give: code-point order of the whole relative
// path, so 10 < 9 and "a.png" < "a/…" ('.' < '/'); hidden files, non-images and links to folders skipped.
const expectedOrder = ['10.png', '9.png', 'a.png', 'a/b.jpg', 'sub/x/1.png', 'sub/x/10.png', 'sub/x/2.png', 'Z.PNG'].sort((a, b) => (a < b ? -1 : 1));

beforeAll(async () => {
  run = await tinyRun();
  folder = mkdtempSync(join(tmpdir(), 'paddock-folder-'));
  mkdirSync(join(folder, 'a'));
  mkdirSync(join(folder, 'sub', 'x'), { recursive: true });
  mkdirSync(join(folder, '.cache'));
  const make = async (rel: string, label: string, i: number) => colourImage(join(folder, rel), label, i);
  await make('10.png', 'red', 1);
  await make('9.png', 'blue', 2);
  await make('a.png', 'red', 3);
  await make('sub/x/1.png', 'blue', 4);
  await make('sub/x/10.png', 'red', 5);
  await make('sub/x/2.png', 'blue', 6);
  await make('Z.PNG', 'red', 7);
  await make('.cache/hidden.png', 'red', 8);
  await make('.hidden.png', 'red', 9);
  copyFileSync(join(folder, 'a.png'), join(folder, 'a', 'b.jpg')); // a PNG named .jpg: decoded by content
  writeFileSync(join(folder, 'notes.txt'), 'not an image');
  symlinkSync(join(folder, 'sub'), join(folder, 'linked'));
}, 120_000);

describe('getImageFiles', () => {
  it('lists nested images in code-point path order, 10.png before 9.png, upper case before lower', async () => {
    const files = await getImageFiles(folder);
    expect(files.map((f) => f.slice(folder.length + 1))).toEqual(expectedOrder);
    // Spelled out, so the rule is visible: 'Z' (0x5a) sorts before 'a' (0x61).
    expect(expectedOrder).toEqual(['10.png', '9.png', 'Z.PNG', 'a.png', 'a/b.jpg', 'sub/x/1.png', 'sub/x/10.png', 'sub/x/2.png']);
  });
});

describe('getPreds', () => {
  it('predicts a folder in getImageFiles order: each row is that file predicted alone', async () => {
    const preds = await getPreds({ modelPath: run.modelPath, folder, batchSize: 3 });
    expect(preds.paths.map((p) => p.slice(folder.length + 1))).toEqual(expectedOrder);
    expect(preds.vocab).toEqual(['blue', 'red']);
    expect(preds.probs).toHaveLength(expectedOrder.length * 2);
    const predictor = await Predictor.load(run.modelPath, { threads: 2 });
    for (const [i, p] of preds.paths.entries()) {
      const alone = (await predictor.predictFiles([p])).probs;
      expect(preds.probs[2 * i]).toBeCloseTo(alone[0], 6);
      expect(preds.probs[2 * i] + preds.probs[2 * i + 1]).toBeCloseTo(1, 5);
    }
    await predictor.release();
    // Trained on colours: the names say what each file is.
    expect(preds.labels).toEqual(['red', 'blue', 'red', 'red', 'red', 'blue', 'red', 'blue']);
    expect(Array.from(preds.decoded)).toEqual(preds.labels.map((l) => preds.vocab.indexOf(l)));
    expect(preds.targets).toBeUndefined();
  }, 60_000);

  it('keeps a file list in the order given, and takes targets from parent folders when asked', async () => {
    const files = [join(folder, 'sub/x/2.png'), join(folder, '10.png'), join(folder, 'sub/x/1.png')];
    const preds = await getPreds({ modelPath: run.modelPath, files });
    expect(preds.paths).toEqual(files);
    expect(preds.labels).toEqual(['blue', 'red', 'blue']);
    const labelled = await getPreds({ modelPath: run.modelPath, files: [join(run.dir, 'train_images/red/red_20.png'), join(run.dir, 'train_images/blue/blue_19.png')], labelFromParent: true });
    expect(Array.from(labelled.targets!)).toEqual([1, 0]);
    await expect(getPreds({ modelPath: run.modelPath, files, labelFromParent: true })).rejects.toThrow(/parent folder "x" is not a label/);
  }, 60_000);

  it('predicts the validation split of a manifest with its targets, in manifest order', async () => {
    const preds = await getPreds({ modelPath: run.modelPath, manifest: run.manifest });
    const valid = run.manifest.items.filter((i) => i.split === 2);
    expect(preds.paths).toEqual(valid.map((i) => join(run.dir, i.path)));
    expect(Array.from(preds.targets!)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(accuracy(preds.probs, preds.targets!, 2)).toBe(1);
  }, 60_000);

  it('reports unreadable files in place (NaN row, empty label) and goes on', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'paddock-bad-')), 'broken.png');
    writeFileSync(bad, 'not a png');
    const preds = await getPreds({ modelPath: run.modelPath, files: [join(folder, '9.png'), bad, join(folder, '10.png')] });
    expect(preds.failed.map((f) => f.index)).toEqual([1]);
    expect(preds.labels).toEqual(['blue', '', 'red']);
    expect(Number.isNaN(preds.probs[2])).toBe(true);
  }, 60_000);
});

describe('TTA', () => {
  it('the float-input graph is the uint8 model without its normalisation', async () => {
    const model = loadModel(run.modelPath);
    const { model: float, input } = floatInputModel(model);
    expect(float.graph.inputs).toEqual([{ name: input, dtype: 'float32', shape: ['N', 3, size, size] }]);
    const img = (await presize(join(folder, '10.png'), { size, method: 'squish' })).data;
    const x = new Float32Array(3 * size * size);
    for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) x[c * size * size + p] = (img[p * 3 + c] / 255 - 0.5) / 0.25;
    const a = await ort.InferenceSession.create(encodeModel(model));
    const b = await ort.InferenceSession.create(encodeModel(float));
    const pa = (await a.run({ image: new ort.Tensor('uint8', img, [1, size, size, 3]) })).probabilities.data as Float32Array;
    const pb = (await b.run({ [input]: new ort.Tensor('float32', x, [1, 3, size, size]) })).probabilities.data as Float32Array;
    expect(Math.abs(pa[0] - pb[0])).toBeLessThan(1e-5);
    expect(Math.abs(pa[1] - pb[1])).toBeLessThan(1e-5);
  }, 30_000);

  it('with an augmentation that changes nothing, every augmented pass equals the plain prediction', async () => {
    const predictor = await Predictor.load(run.identityModelPath, { threads: 2 });
    const files = await getImageFiles(folder);
    const plain = await predictor.predictFiles(files);
    const { runs } = await predictor.predictFilesAugmented(files, { n: 2, seed: 1 });
    for (const r of runs) for (let i = 0; i < r.length; i++) expect(Math.abs(r[i] - plain.probs[i])).toBeLessThan(2e-5);
    await predictor.release();
  }, 60_000);

  it('blends (1 − beta)·mean(aug) + beta·plain from seeded passes; same seed, same numbers', async () => {
    const files = (await getImageFiles(folder)).slice(0, 5);
    const predictor = await Predictor.load(run.modelPath, { threads: 2 });
    const aug = await predictor.predictFilesAugmented(files, { n: 3, seed: 11, batchSize: 2 });
    const again = await predictor.predictFilesAugmented(files, { n: 3, seed: 11, batchSize: 5 });
    // Draws are per (pass, image), so the batch size changes nothing.
    aug.runs.forEach((r, k) => Array.from(r).forEach((v, i) => expect(Math.abs(v - again.runs[k][i])).toBeLessThan(1e-6)));
    // The passes really are augmented: they differ from each other.
    expect(Array.from(aug.runs[0])).not.toEqual(Array.from(aug.runs[1]));
    const preds = await getPreds({ predictor, files, tta: { n: 3, seed: 11, beta: 0.4 } });
    const expected = blendTta(preds.plainProbs!, aug.runs, 0.4);
    Array.from(preds.probs).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(preds.tta).toEqual({ n: 3, beta: 0.4, useMax: false, seed: 11 });
    // by hand for the first value: 0.6·mean + 0.4·plain
    const mean0 = (aug.runs[0][0] + aug.runs[1][0] + aug.runs[2][0]) / 3;
    expect(preds.probs[0]).toBeCloseTo(0.6 * mean0 + 0.4 * preds.plainProbs![0], 6);
    const max = await getPreds({ predictor, files, tta: { n: 3, seed: 11, useMax: true } });
    Array.from(max.probs).forEach((v, i) => expect(v).toBeCloseTo(Math.max(max.plainProbs![i], ...aug.runs.map((r) => r[i])), 6));
    // Default seed: the training seed in the metadata (7).
    expect((await getPreds({ predictor, files, tta: true })).tta).toEqual({ n: 4, beta: 0.25, useMax: false, seed: 7 });
    await predictor.release();
  }, 60_000);
});
