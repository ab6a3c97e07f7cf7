// get_preds for Paddock: probabilities, targets and decoded labels, in input order, for the
// validation split of a manifest, any folder of images or a list of files, from an exported
// model.onnx — plain, or with fastai's test-time augmentation blended in (tta).
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { Split, type DatasetManifest, type Item } from '@paddock/contracts';
import { compareCodepoints } from '@paddock/labels';
import { Predictor } from '@paddock/learner';
import type { Device } from '@paddock/runtime';
import { argmaxRows, blendTta } from './metrics.ts';

/** The extensions get_image_files accepts here (the formats the decoder reads), lower case. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.bmp', '.gif', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp'];

export interface TtaOptions {
  /** Augmented passes (fastai default 4). */
  n?: number;
  /** Weight of the plain prediction: (1 − beta)·mean(aug) + beta·plain (fastai default 0.25). */
  beta?: number;
  /** Max over the plain and every augmented prediction instead of the blend; beta is ignored. */
  useMax?: boolean;
  /** Seed of the augmentation draws (default: the training seed in the model's metadata, else 0). */
  seed?: number;
}

export interface GetPredsSpec {
  /** An exported model.onnx, or an already loaded Predictor (not released by getPreds). */
  modelPath?: string;
  predictor?: Predictor;
  /** A manifest: its `split` items ('valid' by default), with targets from their label ids. */
  manifest?: DatasetManifest;
  split?: 'valid' | 'train' | 'test';
  /** Items with paths relative to `dataDir`; targets from their label ids. */
  items?: readonly Item[];
  dataDir?: string;
  /** Every image under a folder, nested folders included, in getImageFiles order. */
  folder?: string;
  /** Targets from each file's parent folder name when it is in the vocab (folder or files). */
  labelFromParent?: boolean;
  /** Files in the given order. */
  files?: readonly string[];
  batchSize?: number;
  device?: Device;
  threads?: number;
  /** true for fastai's defaults, or the options; off by default. */
  tta?: boolean | TtaOptions;
  onProgress?: (done: number, total: number) => void;
}

export interface Preds {
  vocab: string[];
  /** Absolute paths, the order of every array here. */
  paths: string[];
  /** N × C probabilities (TTA-blended when tta was asked for); NaN rows for unreadable files. */
  probs: Float32Array;
  /** Class index per row (argmax; the first wins a tie). */
  decoded: Int32Array;
  /** vocab[decoded], i.e. label names; '' for unreadable files. */
  labels: string[];
  /** Target class per row when the source has labels (manifest, items, labelFromParent). */
  targets?: Int32Array;
  /** With tta: the plain (un-augmented) probabilities, so both can be scored. */
  plainProbs?: Float32Array;
  tta?: Required<TtaOptions>;
  failed: { index: number; path: string; reason: string }[];
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/**
 * fastai's get_image_files(folder).sorted(): every image file under `folder` (hidden files and
 * folders skipped, symlinks to files followed), as absolute paths sorted by their path relative
 * to the folder in code-point order after NFC — so "10.jpg" comes before "9.jpg" and
 * "a.jpg" before "a/b.jpg" ('.' < '/'), the same order ingestion gives test images.
 */
export async function getImageFiles(folder: string): Promise<string[]> {
  const root = resolve(folder);
  const rels: string[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const abs = join(dir, entry.name);
      // Links to folders are not followed (os.walk's default; no cycles), links to files are.
      if (entry.isDirectory()) await walk(abs, `${prefix}${entry.name}/`);
      else if (IMAGE_EXTENSIONS.includes(extensionOf(entry.name))) {
        if (entry.isFile() || (entry.isSymbolicLink() && (await stat(abs).catch(() => undefined))?.isFile())) rels.push(prefix + entry.name);
      }
    }
  }
  try {
    await walk(root, '');
  } catch (error) {
    throw new Error(`getImageFiles: cannot list ${root}: ${(error as Error).message}`);
  }
  const keyed = rels.map((p) => [p.normalize('NFC'), p] as const);
  keyed.sort((a, b) => compareCodepoints(a[0], b[0]) || compareCodepoints(a[1], b[1]));
  return keyed.map(([, p]) => join(root, p));
}

function ttaOptions(tta: GetPredsSpec['tta'], metadata: Record<string, string>): Required<TtaOptions> | undefined {
  if (!tta) return undefined;
  const o = tta === true ? {} : tta;
  const training = metadata['paddock.training'] ? JSON.parse(metadata['paddock.training']) : {};
  const out = { n: o.n ?? 4, beta: o.beta ?? 0.25, useMax: o.useMax ?? false, seed: o.seed ?? (Number.isInteger(training.seed) ? training.seed : 0) };
  if (!(out.beta >= 0 && out.beta <= 1)) throw new RangeError(`tta.beta must be in [0, 1], got ${out.beta}`);
  return out;
}

export async function getPreds(spec: GetPredsSpec): Promise<Preds> {
  const sources = [spec.manifest, spec.items, spec.folder, spec.files].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new RangeError(`getPreds: give exactly one of manifest, items, folder or files (got ${sources})`);
  if (!spec.predictor === !spec.modelPath) throw new RangeError('getPreds: give exactly one of modelPath or predictor');
  const predictor = spec.predictor ?? (await Predictor.load(spec.modelPath!, { device: spec.device, threads: spec.threads }));
  try {
    const vocab = predictor.vocab;
    let paths: string[];
    let targets: Int32Array | undefined;
    const fromItems = (items: readonly Item[], dataDir: string) => {
      paths = items.map((i) => resolve(dataDir, i.path));
      if (items.length && items.every((i) => i.label !== '')) {
        targets = Int32Array.from(items, (i) => {
          const id = vocab.indexOf(i.label);
          if (id < 0) throw new RangeError(`getPreds: item ${i.path} has label "${i.label}", which the model's vocab (${vocab.join(', ')}) does not have`);
          return id;
        });
      }
    };
    if (spec.manifest) {
      const split = spec.split ?? 'valid';
      const items = split === 'test' ? spec.manifest.testItems : spec.manifest.items.filter((i) => i.split === (split === 'valid' ? Split.VALID : Split.TRAIN));
      fromItems(items, spec.manifest.dataDir);
    } else if (spec.items) {
      fromItems(spec.items, spec.dataDir ?? '.');
    } else {
      paths = spec.folder !== undefined ? await getImageFiles(spec.folder) : spec.files!.map((f) => resolve(f));
      if (spec.labelFromParent) {
        targets = Int32Array.from(paths, (p) => {
          const parent = p.split(/[\\/]/).at(-2) ?? '';
          const id = vocab.indexOf(parent);
          if (id < 0) throw new RangeError(`getPreds: ${p}: parent folder "${parent}" is not a label of the model's vocab (${vocab.join(', ')})`);
          return id;
        });
      }
    }
    paths = paths!;
    const options = { batchSize: spec.batchSize, onProgress: spec.onProgress };
    const plain = await predictor.predictFiles(paths, options);
    let probs = plain.probs;
    const tta = ttaOptions(spec.tta, predictor.metadata);
    if (tta) {
      const augmented = await predictor.predictFilesAugmented(paths, { ...options, n: tta.n, seed: tta.seed });
      probs = blendTta(plain.probs, augmented.runs, tta.beta, tta.useMax);
    }
    const decoded = argmaxRows(probs, vocab.length);
    const failedAt = new Set(plain.failed.map((f) => f.index));
    const labels = Array.from(decoded, (d, i) => (failedAt.has(i) ? '' : vocab[d]));
    return { vocab, paths, probs, decoded, labels, targets, plainProbs: tta ? plain.probs : undefined, tta, failed: plain.failed };
  } finally {
    if (!spec.predictor) await predictor.release();
  }
}
