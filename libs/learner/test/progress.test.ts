// Progress when output is not a terminal: plain lines (a few per epoch) and the fastai table with
// the Learner's metric columns, no escape codes.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { consoleProgress, type EpochRecord } from '../src/index.ts';

describe('consoleProgress (not a TTY)', () => {
  it('prints batch lines and the epoch table with every metric, without escape codes', () => {
    let text = '';
    const stream = new Writable({ write: (chunk, _, done) => ((text += String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
    const p = consoleProgress(stream, false);
    p.header(['error_rate', 'top_5_accuracy']);
    p.epochStart(0, 8);
    for (let i = 1; i <= 8; i++) p.batch(i, 1 / i);
    const r: EpochRecord = { epoch: 0, trainLoss: 0.5, validLoss: 0.25, errorRate: 0.125, accuracy: 0.875, metrics: { error_rate: 0.125, top_5_accuracy: 1 }, seconds: 65, imagesPerSecond: 10 };
    p.epochEnd(r);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^epoch\s+train_loss\s+valid_loss\s+error_rate\s+top_5_accuracy\s+time$/);
    expect(lines.filter((l) => l.startsWith('  batch'))).toEqual(['  batch 2/8  loss 0.5000', '  batch 4/8  loss 0.2500', '  batch 6/8  loss 0.1667', '  batch 8/8  loss 0.1250']);
    expect(lines[lines.length - 1]).toMatch(/^0\s+0\.500000\s+0\.250000\s+0\.125000\s+1\.000000\s+01:05$/);
    expect(text).not.toMatch(/\u001b\[/);
  });
});
