// Scoring a submission against held test labels, for users who have them (the demo dataset
// keeps its test labels; Kaggle does not give them out). Mirrors what the leaderboard computes —
// accuracy over the labelled ids — and adds the confusion matrix to see where it went wrong.
import { readIdColumn } from './csv.ts';
import { SubmissionError } from './errors.ts';

export interface SubmissionScore {
  /** correct / labelled ids; a labelled id missing from the submission counts as wrong. */
  accuracy: number;
  errorRate: number;
  correct: number;
  /** Ids in the labels file. */
  total: number;
  /** Labelled ids that the submission has a row for. */
  scored: number;
  /** Rows: actual label, columns: predicted label, over `vocab`, for the scored ids. */
  confusion: number[][];
  /** Sorted union of the actual labels and the labels predicted for scored ids. */
  vocab: string[];
  /** Labelled ids the submission lacks, in labels-file order. */
  missing: string[];
  /** Submission ids the labels file does not know (ignored for the score), in submission order. */
  unexpected: string[];
}

export function scoreSubmission(submissionCsv: string, labelsCsv: string): SubmissionScore {
  const truthRows = readIdColumn(labelsCsv, 'test labels', 'image_id', ['label']);
  const subRows = readIdColumn(submissionCsv, 'submission', 'image_id', ['label']);
  if (truthRows.length === 0) throw new SubmissionError(`${labelsCsv}: no labelled rows to score against`, { file: labelsCsv });
  for (const rows of [truthRows, subRows]) {
    const file = rows === truthRows ? labelsCsv : submissionCsv;
    for (const r of rows) {
      if (r.values.label === '') throw new SubmissionError(`${file}:${r.line}: row ${r.row} (${r.values.image_id}) has an empty label`, { file, row: r.row, line: r.line });
    }
  }
  const predicted = new Map(subRows.map((r) => [r.values.image_id, r.values.label]));
  const truth = new Map(truthRows.map((r) => [r.values.image_id, r.values.label]));

  const labels = new Set(truthRows.map((r) => r.values.label));
  for (const [id, label] of predicted) if (truth.has(id)) labels.add(label);
  // Code-unit order, the same order as the dataset vocab (Python's sorted()).
  const vocab = [...labels].sort();
  const index = new Map(vocab.map((l, i) => [l, i]));
  const confusion = vocab.map(() => new Array<number>(vocab.length).fill(0));

  let correct = 0;
  let scored = 0;
  const missing: string[] = [];
  for (const r of truthRows) {
    const id = r.values.image_id;
    const guess = predicted.get(id);
    if (guess === undefined) {
      missing.push(id);
      continue;
    }
    scored++;
    if (guess === r.values.label) correct++;
    confusion[index.get(r.values.label)!][index.get(guess)!] += 1;
  }
  const unexpected = subRows.map((r) => r.values.image_id).filter((id) => !truth.has(id));
  const accuracy = correct / truthRows.length;
  return { accuracy, errorRate: 1 - accuracy, correct, total: truthRows.length, scored, confusion, vocab, missing, unexpected };
}
