// `paddock report RUN`: one self-contained HTML page per run folder — recipe, dataset audit, the
// epoch table, loss (and lr-find) curves, evaluation numbers and pictures, a submission preview.
// Everything is read from the files the stages wrote (the training stage's loss.png and
// lr-find*.png are inlined as they are); a missing file is a note on the page, not an
// error, so a run that stopped after training still gets a report. Images are inlined (data: URIs).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { escapeHtml, htmlImage, htmlPage, htmlSection, htmlTable, linePlot, type HtmlCell, type Series } from '@paddock/report';
import { writeFileAtomic } from '@paddock/store';

export interface ReportPageSpec {
  runDir: string;
  /** Where the page goes (default <runDir>/report.html). */
  out?: string;
  /** Submission rows shown (default 10). */
  previewRows?: number;
}

export interface ReportPage {
  path: string;
  html: string;
  /** Which run files went into the page, and which were missing. */
  included: string[];
  missing: string[];
}

type Json = Record<string, unknown>;

function readCsv(path: string): Record<string, string>[] {
  return parse(readFileSync(path, 'utf8'), { columns: true, bom: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
}

const note = (text: string) => `<p class="note">${escapeHtml(text)}</p>`;
const num = (v: unknown): HtmlCell => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : (v as string));

/** A number exactly as JSON wrote it, so the page and evaluation.json agree digit for digit. */
const exact = (v: unknown) => (typeof v === 'number' ? JSON.stringify(v) : '#na#');
/** A rate as JSON wrote it (in a span the page's readers and tests can find by id) and in per cent. */
const rate = (v: unknown, id?: string) =>
  `<span${id ? ` id="${id}"` : ''}>${exact(v)}</span>${typeof v === 'number' ? ` <span class="note">(${(v * 100).toFixed(2)} %)</span>` : ''}`;

export async function writeReportPage(spec: ReportPageSpec): Promise<ReportPage> {
  const runDir = resolve(spec.runDir);
  if (!existsSync(runDir)) throw Object.assign(new Error(`report: run folder ${runDir} does not exist; pass the folder paddock run wrote (runs/<run-id>)`), { exitCode: 2 });
  const included: string[] = [];
  const missing: string[] = [];
  const file = (name: string) => {
    const p = join(runDir, name);
    if (existsSync(p)) {
      included.push(name);
      return p;
    }
    missing.push(name);
    return undefined;
  };
  const json = (name: string): Json | undefined => {
    const p = file(name);
    return p ? (JSON.parse(readFileSync(p, 'utf8')) as Json) : undefined;
  };
  const png = (name: string, alt: string, id: string) => {
    const p = file(name);
    return p ? htmlImage(readFileSync(p), alt, { id }) : note(`${name}: not in this run`);
  };
  const sections: string[] = [];

  // Recipe
  const recipe = json('recipe.json');
  sections.push(htmlSection('recipe', 'Recipe', recipe ? `<pre>${escapeHtml(JSON.stringify(recipe, null, 2))}</pre>` : note('recipe.json: not in this run')));

  // Dataset audit
  const audit = json('audit.json');
  if (audit) {
    const labels = (audit.labels as Json[] | undefined) ?? [];
    const problems = (audit.problems as Json[] | undefined) ?? [];
    const duplicates = (audit.duplicates as Json[] | undefined) ?? [];
    const mismatches = (audit.formatMismatches as Json[] | undefined) ?? [];
    const body = [
      `<dl class="kv" id="audit-counts"><dt>train</dt><dd>${exact(audit.trainCount)}</dd><dt>valid</dt><dd>${exact(audit.validCount)}</dd><dt>test</dt><dd>${exact(audit.testCount)}</dd>` +
        `<dt>problem files</dt><dd>${problems.length}</dd><dt>duplicate groups</dt><dd>${duplicates.length}</dd><dt>extension/format mismatches</dt><dd>${mismatches.length}</dd></dl>`,
      htmlTable(
        ['label', 'images', 'sizes (w×h: count)', 'size outlier'],
        labels.map((l) => [String(l.label), num(l.count), ((l.sizes as Json[] | undefined) ?? []).slice(0, 4).map((s) => `${s.width}×${s.height}: ${s.count}`).join(', '), l.sizeOutlier ? 'yes' : '']),
        { id: 'audit-labels' },
      ),
      problems.length ? htmlTable(['file', 'kind', 'reason', 'kept'], problems.slice(0, 20).map((p) => [String(p.path), String(p.kind), String(p.reason), p.kept ? 'yes' : 'no'])) : '',
      problems.length > 20 ? note(`… and ${problems.length - 20} more in audit.json`) : '',
    ];
    sections.push(htmlSection('audit', 'Dataset audit', body.join('\n')));
  } else sections.push(htmlSection('audit', 'Dataset audit', note('audit.json: not in this run')));

  // Training: epoch table and loss curves
  const metricsPath = file('metrics.csv');
  const training: string[] = [];
  if (metricsPath) {
    const rows = readCsv(metricsPath);
    const header = rows.length ? Object.keys(rows[0]) : [];
    training.push(htmlTable(header, rows.map((r) => header.map((h) => num(r[h]))), { id: 'epochs' }));
    // The training stage's per-batch loss plot (loss.png, fastai's plot_loss) when the run has
    // one; otherwise a per-epoch curve drawn here from metrics.csv.
    const lossPng = file('loss.png');
    if (lossPng) training.push(htmlImage(readFileSync(lossPng), 'loss curve', { id: 'loss-plot' }));
    else if (rows.length && header.includes('train_loss')) {
      const epochs = rows.map((r) => Number(r.epoch));
      const series: Series[] = [{ name: 'train_loss', x: epochs, y: rows.map((r) => Number(r.train_loss)) }];
      if (header.includes('valid_loss')) series.push({ name: 'valid_loss', x: epochs, y: rows.map((r) => Number(r.valid_loss)) });
      const plot = await linePlot(series, { title: 'Loss per epoch (no per-batch losses stored)', xLabel: 'epoch', yLabel: 'loss' });
      training.push(htmlImage(plot.png, 'loss curve', { id: 'loss-plot' }));
    }
  } else training.push(note('metrics.csv: not in this run'));
  // lr_find plots: lr-find.png (paddock lr-find) and lr-find-<step>.png (an lrFind step of a recipe).
  const lrFinds = readdirSync(runDir).filter((f) => /^lr-find(-\d+)?\.png$/.test(f)).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  for (const f of lrFinds) {
    included.push(f);
    training.push(htmlImage(readFileSync(join(runDir, f)), `lr-find curve (${f})`, { id: f.replace('.png', '') }));
  }
  if (lrFinds.length === 0) training.push(note('lr-find.png: this run did not run lr_find'));
  sections.push(htmlSection('training', 'Training', training.join('\n')));

  // Evaluation
  const evaluation = json('evaluation.json');
  const evalBody: string[] = [];
  if (evaluation) {
    const tta = evaluation.tta as Json | undefined;
    const topK = (evaluation.topKAccuracy as Record<string, number> | undefined) ?? {};
    evalBody.push(
      `<dl class="kv" id="scores"><dt>validation images</dt><dd id="items">${exact(evaluation.items)}</dd>` +
        `<dt>error rate</dt><dd>${rate(evaluation.errorRate, 'error-rate')}</dd>` +
        `<dt>accuracy</dt><dd>${rate(evaluation.accuracy, 'accuracy')}</dd>` +
        `<dt>loss</dt><dd id="loss">${exact(evaluation.loss)}</dd>` +
        Object.entries(topK).map(([k, v]) => `<dt>top-${escapeHtml(k)} accuracy</dt><dd>${rate(v)}</dd>`).join('') +
        (tta
          ? `<dt>TTA error rate (n=${exact(tta.n)}, beta=${exact(tta.beta)}${tta.useMax ? ', max' : ''})</dt><dd>${rate(tta.errorRate, 'tta-error-rate')}</dd><dt>TTA accuracy</dt><dd>${rate(tta.accuracy)}</dd>`
          : '') +
        `</dl>`,
    );
    const perClass = (evaluation.perClass as Json[] | undefined) ?? [];
    const f1 = (evaluation.f1 as Record<string, number> | undefined) ?? {};
    evalBody.push(htmlTable(['label', 'precision', 'recall', 'f1', 'support'], perClass.map((c) => [String(c.label), num(c.precision), num(c.recall), num(f1[String(c.label)]), num(c.support)]), { id: 'per-class', digits: 4 }));
  } else evalBody.push(note('evaluation.json: not in this run'));
  evalBody.push(png('confusion_matrix.png', 'confusion matrix', 'confusion-matrix'));
  evalBody.push(png('confusion_matrix_normalized.png', 'confusion matrix, row-normalised', 'confusion-matrix-normalized'));
  evalBody.push(png('most_confused.png', 'most confused pairs', 'most-confused'));
  evalBody.push(png('top_losses.png', 'top losses', 'top-losses'));
  sections.push(htmlSection('evaluation', 'Evaluation', evalBody.join('\n')));

  // Submission preview
  const submissionPath = file('submission.csv');
  if (submissionPath) {
    const rows = readCsv(submissionPath);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
    const n = spec.previewRows ?? 10;
    sections.push(
      htmlSection(
        'submission',
        'Submission',
        `<p>${rows.length} rows in submission.csv; the first ${Math.min(n, rows.length)}:</p>` +
          htmlTable(['image_id', 'label'], rows.slice(0, n).map((r) => [r.image_id, r.label]), { id: 'submission-preview' }) +
          htmlTable(['label', 'rows'], [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([l, c]) => [l, c]), { id: 'submission-counts' }),
      ),
    );
  } else sections.push(htmlSection('submission', 'Submission', note('submission.csv: not in this run (no test_images?)')));

  const runId = typeof evaluation?.runId === 'string' && evaluation.runId ? evaluation.runId : basename(runDir);
  const html = htmlPage(`Paddock run ${runId}`, sections.join('\n'));
  const path = resolve(spec.out ?? join(runDir, 'report.html'));
  writeFileAtomic(path, html);
  return { path, html, included, missing };
}
