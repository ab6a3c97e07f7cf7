// The evaluation stage: predictions of an exported model.onnx on the validation split (plain and,
// by default, TTA), the metrics fastai reports, and the pictures of ClassificationInterpretation:
// confusion matrix (counts and normalised), most-confused pairs, and the top losses.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { create, toJson } from '@bufbuild/protobuf';
import { EvaluationReportSchema, Split, type DatasetManifest, type EvaluationReport } from '@paddock/contracts';
import { Predictor } from '@paddock/learner';
import { barChart, confusionMatrixPlot, imageGrid } from '@paddock/report';
import type { Device } from '@paddock/runtime';
import { writeFileAtomic } from '@paddock/store';
import { presize } from '@paddock/vision';
import { argmaxRows, confusionMatrix, crossEntropy, macroAverage, mostConfused, perClassMetrics, topKAccuracy, topLosses } from './metrics.ts';
import { getPreds, type TtaOptions } from './preds.ts';

export interface EvaluateSpec {
  manifest: DatasetManifest;
  modelPath: string;
  outDir: string;
  runId?: string;
  device?: Device;
  batchSize?: number;
  /** TTA next to the plain score: on by default when the model carries its training
   *  augmentation (paddock.augment); false turns it off. */
  tta?: boolean | TtaOptions;
  /** Images in the top-losses grid (fastai's plot_top_losses k; default 9). */
  topLosses?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Scores of one set of predictions. */
export interface Scores {
  errorRate: number;
  accuracy: number;
  loss: number;
}

/** The interpretation numbers in plain JS shapes (evaluation.json holds them as EvaluationReport fields). */
export interface EvaluationExtras {
  /** Top-k accuracy for k = 1, 2, 3, 5 (those ≤ the number of classes). */
  topKAccuracy: Record<string, number>;
  /** Unweighted means over classes. */
  macro: { precision: number; recall: number; f1: number };
  /** F1 per class, in vocab order (precision/recall/support are in perClass). */
  f1: Record<string, number>;
  /** TTA scores next to the plain ones (absent when TTA was off or impossible). */
  tta?: Scores & { n: number; beta: number; useMax: boolean; seed: number };
  /** fastai's top_losses on the plain predictions: the path relative to the dataset, labels as names. */
  topLosses: { index: number; path: string; actual: string; predicted: string; loss: number; probability: number }[];
}

export interface Evaluation {
  report: EvaluationReport;
  extras: EvaluationExtras;
  files: { json: string; confusionMatrix: string; confusionMatrixNormalized: string; mostConfused: string; topLosses: string };
}

function scores(probs: Float32Array, targets: Int32Array, classes: number): Scores {
  const preds = argmaxRows(probs, classes);
  const correct = preds.reduce((n, p, i) => n + (p === targets[i] ? 1 : 0), 0);
  return { accuracy: correct / targets.length, errorRate: 1 - correct / targets.length, loss: crossEntropy(probs, targets, classes) };
}

export async function evaluate(spec: EvaluateSpec): Promise<Evaluation> {
  const valid = spec.manifest.items.filter((i) => i.split === Split.VALID);
  if (valid.length === 0) throw new RangeError('evaluate: the manifest has no validation items (valid_pct 0?); nothing to evaluate');
  const predictor = await Predictor.load(spec.modelPath, { device: spec.device });
  try {
    const vocab = predictor.vocab;
    if (vocab.join('\n') !== spec.manifest.vocab.join('\n')) {
      throw new Error(`${spec.modelPath}: the model's vocab (${vocab.join(', ')}) differs from the dataset's (${spec.manifest.vocab.join(', ')})`);
    }
    const tta = spec.tta ?? (predictor.augmentSpec !== undefined);
    const preds = await getPreds({ predictor, manifest: spec.manifest, split: 'valid', batchSize: spec.batchSize, tta, onProgress: spec.onProgress });
    if (preds.failed.length) {
      const f = preds.failed[0];
      throw new Error(`evaluate: ${preds.failed.length} validation image(s) could not be read after ingestion accepted them, e.g. ${f.path}: ${f.reason}`);
    }
    const classes = vocab.length;
    const targets = preds.targets!;
    // Interpretation (matrix, confused pairs, top losses) is on the plain predictions, as fastai's
    // ClassificationInterpretation.from_learner; TTA is reported beside it.
    const plain = preds.plainProbs ?? preds.probs;
    const plainScores = scores(plain, targets, classes);
    const matrix = confusionMatrix(argmaxRows(plain, classes), targets, classes);
    const perClass = perClassMetrics(matrix, vocab);
    const confused = mostConfused(matrix, vocab);
    const k = Math.min(spec.topLosses ?? 9, valid.length);
    const losses = topLosses(plain, targets, classes, k).map((t) => ({ index: t.index, path: valid[t.index].path, actual: vocab[t.target], predicted: vocab[t.predicted], loss: t.loss, probability: t.probability }));
    const extras: EvaluationExtras = {
      topKAccuracy: Object.fromEntries([1, 2, 3, 5].filter((kk) => kk <= classes).map((kk) => [String(kk), topKAccuracy(plain, targets, classes, kk)])),
      macro: macroAverage(perClass),
      f1: Object.fromEntries(perClass.map((m) => [m.label, m.f1])),
      tta: preds.tta && preds.plainProbs ? { ...preds.tta, ...scores(preds.probs, targets, classes) } : undefined,
      topLosses: losses,
    };
    const report = create(EvaluationReportSchema, {
      runId: spec.runId ?? '',
      items: valid.length,
      accuracy: plainScores.accuracy,
      errorRate: plainScores.errorRate,
      loss: plainScores.loss,
      vocab,
      confusionMatrix: matrix.flat(),
      perClass: perClass.map((m) => ({ label: m.label, precision: m.precision, recall: m.recall, support: m.support, f1: m.f1 })),
      mostConfused: confused.map((c) => ({ actual: c.actual, predicted: c.predicted, count: c.count })),
      topKAccuracy: Object.fromEntries(Object.entries(extras.topKAccuracy).map(([kk, v]) => [Number(kk), v])),
      macro: extras.macro,
      f1: extras.f1,
      tta: extras.tta,
      topLosses: extras.topLosses,
    });

    mkdirSync(spec.outDir, { recursive: true });
    const files = {
      json: join(spec.outDir, 'evaluation.json'),
      confusionMatrix: join(spec.outDir, 'confusion_matrix.png'),
      confusionMatrixNormalized: join(spec.outDir, 'confusion_matrix_normalized.png'),
      mostConfused: join(spec.outDir, 'most_confused.png'),
      topLosses: join(spec.outDir, 'top_losses.png'),
    };
    // evaluation.json is the EvaluationReport contract in protobuf JSON (camelCase, every field).
    const json = toJson(EvaluationReportSchema, report, { alwaysEmitImplicit: true });
    writeFileAtomic(files.json, `${JSON.stringify(json, null, 2)}\n`);
    const ttaNote = extras.tta ? `, TTA ${(extras.tta.errorRate * 100).toFixed(1)} %` : '';
    const title = `Confusion matrix — error ${(report.errorRate * 100).toFixed(1)} %${ttaNote}, ${valid.length} images`;
    writeFileAtomic(files.confusionMatrix, (await confusionMatrixPlot(matrix, vocab, { title })).png);
    writeFileAtomic(files.confusionMatrixNormalized, (await confusionMatrixPlot(matrix, vocab, { title: 'Confusion matrix (row-normalised)', normalize: true })).png);
    const bars = confused.slice(0, 20).map((c) => ({ label: `${c.actual} → ${c.predicted}`, value: c.count }));
    writeFileAtomic(files.mostConfused, (await barChart(bars, { title: 'Most confused (actual → predicted)', valueLabel: 'validation images' })).png);
    // The images as the model saw them: presized to the model's input, centred.
    const shown = await Promise.all(losses.map((t) => presize(preds.paths[t.index], { ...predictor.presizeSpec, size: [predictor.height, predictor.width] }, 'centre')));
    const grid = await imageGrid(
      shown.map((img, i) => {
        const t = losses[i];
        return { rgb: img.data, width: img.width, height: img.height, caption: `${t.predicted}/${t.actual}\n${t.loss.toFixed(2)} / ${t.probability.toFixed(2)}\n${basename(t.path)}` };
      }),
      { columns: Math.min(3, losses.length), title: 'Top losses: predicted/actual, loss/probability' },
    );
    writeFileAtomic(files.topLosses, grid.png);
    return { report, extras, files };
  } finally {
    await predictor.release();
  }
}
