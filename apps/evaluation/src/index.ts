// The evaluation stage: evaluate(spec) predicts the validation split with an exported model (plain
// and TTA) and writes evaluation.json and the interpretation pictures; getPreds is fastai's
// get_preds/tta for any folder or file list; reportPage renders a run folder as one HTML page.
export * from './metrics.ts';
export { evaluate, type EvaluateSpec, type Evaluation, type EvaluationExtras, type Scores } from './evaluate.ts';
export { getPreds, getImageFiles, IMAGE_EXTENSIONS, type GetPredsSpec, type Preds, type TtaOptions } from './preds.ts';
export { writeReportPage, type ReportPageSpec, type ReportPage } from './report-page.ts';
