// Progress like fastai's: a bar inside each epoch, then a table row per epoch. On a terminal the
// bar redraws in place; otherwise (CI logs, pipes) plain lines, no escape codes.
import cliProgress from 'cli-progress';
import { formatTable } from '@paddock/report';
import type { EpochRecord } from './recorder.ts';

export interface ProgressSink {
  epochStart(epoch: number, batches: number): void;
  batch(done: number, loss: number): void;
  epochEnd(record: EpochRecord): void;
  /** Start of a fit: the table header, with the Learner's metric names (default error_rate). */
  header(metrics?: string[]): void;
}

const columnsFor = (metrics: string[]) => ['epoch', 'train_loss', 'valid_loss', ...metrics, 'time'];

/** One row of fastai's epoch table (column widths depend only on the header, so rows stream). */
export function formatEpochRow(r: EpochRecord, metrics: string[] = ['error_rate']): string {
  const row: Record<string, number> = { epoch: r.epoch, train_loss: r.trainLoss, valid_loss: r.validLoss, time: r.seconds };
  for (const m of metrics) row[m] = r.metrics?.[m] ?? (m === 'error_rate' ? r.errorRate : NaN);
  return formatTable([row], columnsFor(metrics)).split('\n')[1];
}

export function formatHeader(metrics: string[] = ['error_rate']): string {
  return formatTable([], columnsFor(metrics));
}

/** Writes to a stream; `interactive` defaults to whether it is a TTY. */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr, interactive = Boolean(stream.isTTY)): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let lastLine = 0;
  let metrics = ['error_rate'];
  return {
    header(names) {
      metrics = names ?? metrics;
      stream.write(`${formatHeader(metrics)}\n`);
    },
    epochStart(epoch, batches) {
      total = batches;
      lastLine = 0;
      if (interactive) {
        bar = new cliProgress.SingleBar({ stream, format: `epoch ${epoch} [{bar}] {value}/{total} batches  loss {loss}  eta {eta_formatted}`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(batches, 0, { loss: '-' });
      }
    },
    batch(done, loss) {
      if (bar) bar.update(done, { loss: loss.toFixed(4) });
      else if (done === total || done - lastLine >= Math.max(1, Math.ceil(total / 4))) {
        lastLine = done;
        stream.write(`  batch ${done}/${total}  loss ${loss.toFixed(4)}\n`);
      }
    },
    epochEnd(record) {
      bar?.stop();
      bar = undefined;
      stream.write(`${formatEpochRow(record, metrics)}\n`);
    },
  };
}

export const silentProgress: ProgressSink = { header() {}, epochStart() {}, batch() {}, epochEnd() {} };
