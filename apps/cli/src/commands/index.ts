// Every paddock command; each module registers one (or a family) on the program.
import type { Command } from 'commander';
import { register as demo } from './demo.ts';
import { register as run } from './run.ts';
import { register as score } from './score.ts';
import { register as train } from './train.ts';
import { register as lrFind } from './lr-find.ts';
import { register as fineTune } from './fine-tune.ts';
import { register as serve } from './serve.ts';
import { register as trigger } from './trigger.ts';
import { register as status } from './status.ts';
import { register as showBatch } from './show-batch.ts';
import { register as summary } from './summary.ts';
import { register as report } from './report.ts';
import { register as predict } from './predict.ts';
import { register as submit } from './submit.ts';
import { register as doctor } from './doctor.ts';

export const commands: ((program: Command) => void)[] = [run, demo, score, train, lrFind, fineTune, report, predict, submit, showBatch, summary, serve, trigger, status, doctor];
