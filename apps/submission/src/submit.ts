// The submission stage: predict every test image with an exported model.onnx in the manifest's
// test order (sample_submission order, else sorted), optionally with fastai's TTA, and write the
// validated submission.csv.
import { join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { SubmissionCreatedSchema, type DatasetManifest, type SubmissionCreated } from '@paddock/contracts';
import { Predictor, argmaxRows, blendTta } from '@paddock/learner';
import type { Device } from '@paddock/runtime';
import { writeSubmission } from './submission.ts';

export interface SubmitSpec {
  manifest: DatasetManifest;
  modelPath: string;
  outDir: string;
  runId?: string;
  device?: Device;
  batchSize?: number;
  /** Test-time augmentation (fastai's tta: n = 4, beta = 0.25, seed = the training seed); off by default. */
  tta?: boolean | { n?: number; beta?: number; useMax?: boolean; seed?: number };
  onProgress?: (done: number, total: number) => void;
}

export interface Submitted {
  created: SubmissionCreated;
  /** Test images that could not be read: they get the most frequent training label. */
  unreadable: { imageId: string; reason: string }[];
}

export async function submit(spec: SubmitSpec): Promise<Submitted> {
  const { manifest } = spec;
  const predictor = await Predictor.load(spec.modelPath, { device: spec.device });
  const vocab = predictor.vocab;
  const tests = manifest.testItems;
  const paths = tests.map((t) => resolve(manifest.dataDir, t.path));
  const options = { batchSize: spec.batchSize, onProgress: spec.onProgress };
  let probs: Float32Array;
  let failed: { index: number; reason: string }[];
  try {
    const plain = await predictor.predictFiles(paths, options);
    failed = plain.failed;
    probs = plain.probs;
    if (spec.tta) {
      const o = spec.tta === true ? {} : spec.tta;
      const training = predictor.metadata['paddock.training'] ? JSON.parse(predictor.metadata['paddock.training']) : {};
      const augmented = await predictor.predictFilesAugmented(paths, { ...options, n: o.n ?? 4, seed: o.seed ?? training.seed ?? 0 });
      probs = blendTta(plain.probs, augmented.runs, o.beta ?? 0.25, o.useMax ?? false);
    }
  } finally {
    await predictor.release();
  }
  // A row for every sample id even when its image is unreadable: Kaggle rejects missing rows.
  const counts = new Map<number, number>();
  for (const item of manifest.items) counts.set(item.labelId, (counts.get(item.labelId) ?? 0) + 1);
  const fallback = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
  const failedAt = new Map(failed.map((f) => [f.index, f.reason]));
  const preds = argmaxRows(probs, vocab.length);
  const rows = tests.map((t, i) => ({ imageId: t.imageId, label: vocab[failedAt.has(i) ? fallback : preds[i]] }));
  const written = writeSubmission({
    path: join(spec.outDir, 'submission.csv'),
    rows,
    sample: manifest.testOrder === 'sample' ? tests.map((t) => t.imageId) : undefined,
    vocab,
  });
  const created = create(SubmissionCreatedSchema, { runId: spec.runId ?? '', path: written.path, rows: written.rows, order: manifest.testOrder, labelCounts: written.labelCounts });
  return { created, unreadable: tests.flatMap((t, i) => (failedAt.has(i) ? [{ imageId: t.imageId, reason: failedAt.get(i)! }] : [])) };
}
