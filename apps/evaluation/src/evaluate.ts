// The evaluation stage: predictions of an exported model.onnx on the validation split, the
// metrics fastai reports, and the pictures (confusion matrix, counts and normalised).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { create, toJsonString } from '@bufbuild/protobuf';
import { EvaluationReportSchema, Split, type DatasetManifest, type EvaluationReport } from '@paddock/contracts';
import { Predictor } from '@paddock/learner';
import { confusionMatrixPlot } from '@paddock/report';
import type { Device } from '@paddock/runtime';
import { writeFileAtomic } from '@paddock/store';
import { argmaxRows, confusionMatrix, crossEntropy, mostConfused, perClassMetrics } from './metrics.ts';

export interface EvaluateSpec {
  manifest: DatasetManifest;
  modelPath: string;
  outDir: string;
  runId?: string;
  device?: Device;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Evaluation {
  report: EvaluationReport;
  files: { json: string; confusionMatrix: string; confusionMatrixNormalized: string };
}

export async function evaluate(spec: EvaluateSpec): Promise<Evaluation> {
  const predictor = await Predictor.load(spec.modelPath, { device: spec.device });
  const valid = spec.manifest.items.filter((i) => i.split === Split.VALID);
  if (valid.length === 0) throw new RangeError('evaluate: the manifest has no validation items (valid_pct 0?); nothing to evaluate');
  const vocab = predictor.vocab;
  if (vocab.join('\n') !== spec.manifest.vocab.join('\n')) {
    throw new Error(`${spec.modelPath}: the model's vocab (${vocab.join(', ')}) differs from the dataset's (${spec.manifest.vocab.join(', ')})`);
  }
  const paths = valid.map((i) => resolve(spec.manifest.dataDir, i.path));
  const { probs, failed } = await predictor.predictFiles(paths, { batchSize: spec.batchSize, onProgress: spec.onProgress });
  if (failed.length) throw new Error(`evaluate: ${failed.length} validation image(s) could not be read after ingestion accepted them, e.g. ${failed[0].path}: ${failed[0].reason}`);
  const classes = vocab.length;
  const targets = valid.map((i) => i.labelId);
  const preds = argmaxRows(probs, classes);
  const matrix = confusionMatrix(preds, targets, classes);
  const correct = preds.reduce((n, p, i) => n + (p === targets[i] ? 1 : 0), 0);
  const report = create(EvaluationReportSchema, {
    runId: spec.runId ?? '',
    items: valid.length,
    accuracy: correct / valid.length,
    errorRate: 1 - correct / valid.length,
    loss: crossEntropy(probs, targets, classes),
    vocab,
    confusionMatrix: matrix.flat(),
    perClass: perClassMetrics(matrix, vocab).map((m) => ({ label: m.label, precision: m.precision, recall: m.recall, support: m.support })),
    mostConfused: mostConfused(matrix, vocab).map((c) => ({ actual: c.actual, predicted: c.predicted, count: c.count })),
  });
  mkdirSync(spec.outDir, { recursive: true });
  const files = {
    json: join(spec.outDir, 'evaluation.json'),
    confusionMatrix: join(spec.outDir, 'confusion_matrix.png'),
    confusionMatrixNormalized: join(spec.outDir, 'confusion_matrix_normalized.png'),
  };
  writeFileAtomic(files.json, `${toJsonString(EvaluationReportSchema, report, { prettySpaces: 2 })}\n`);
  const title = `Confusion matrix — error rate ${(report.errorRate * 100).toFixed(1)} % on ${valid.length} validation images`;
  writeFileAtomic(files.confusionMatrix, (await confusionMatrixPlot(matrix, vocab, { title })).png);
  writeFileAtomic(files.confusionMatrixNormalized, (await confusionMatrixPlot(matrix, vocab, { title: 'Confusion matrix (row-normalised)', normalize: true })).png);
  return { report, files };
}
