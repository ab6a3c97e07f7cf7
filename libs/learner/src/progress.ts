// Progress like fastai's: a bar inside each epoch, then a table row per epoch. On a terminal the
// bar redraws in place; otherwise (CI logs, pipes) plain lines, no escape codes.
import cliProgress from 'cli-progress';
import { formatTable } from '@paddock/report';
import type { EpochRecord } from './recorder.ts';

export interface ProgressSink {
  epochStart(epoch: number, batches: number): void;
  batch(done: number, loss: number): void;
  epochEnd(record: EpochRecord): void;
  header(): void;
}

const columns = ['epoch', 'train_loss', 'valid_loss', 'error_rate', 'time'];

/** One row of fastai's epoch table (column widths depend only on the header, so rows stream). */
export function formatEpochRow(r: EpochRecord): string {
  return formatTable([{ epoch: r.epoch, train_loss: r.trainLoss, valid_loss: r.validLoss, error_rate: r.errorRate, time: r.seconds }], columns).split('\n')[1];
}

export function formatHeader(): string {
  return formatTable([], columns);
}

/** Writes to a stream; `interactive` defaults to whether it is a TTY. */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr, interactive = Boolean(stream.isTTY)): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let lastLine = 0;
  return {
    header: () => stream.write(`${formatHeader()}\n`),
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
      stream.write(`${formatEpochRow(record)}\n`);
    },
  };
}

export const silentProgress: ProgressSink = { header() {}, epochStart() {}, batch() {}, epochEnd() {} };
