// `paddock trigger --data DIR`: start a pipeline in cluster mode by publishing
// paddock.pipeline.requested (the recipe as a TrainingSpec). The message id is the run id, so a
// repeated trigger of the same run inside the de-duplication window is dropped by JetStream.
import { randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { PipelineRequestedSchema, StageFailedSchema, SubmissionCreatedEventSchema, runDirOf, subjects, type TrainingSpecSchema } from '@paddock/contracts';
import { JetStreamEventBus, natsOptionsFrom, type EventBus } from '@paddock/events';
import { number, recipeFrom, recipeOptions, type RunFlags } from '../options.ts';
import type { Recipe } from '../recipe.ts';
import { SERVE_ENV } from './serve.ts';

const hw = (size: number | readonly [number, number]) => (typeof size === 'number' ? [size, size] : size);

/** The recipe as it crosses the wire: every field explicit, so services apply no defaults of their own. */
export function trainingSpecOf(recipe: Recipe): MessageInitShape<typeof TrainingSpecSchema> {
  const [ph, pw] = hw(recipe.presize.size);
  const [ah, aw] = hw(recipe.augment.size);
  const t = recipe.training;
  const a = recipe.augment;
  return {
    arch: t.arch,
    epochs: t.epochs,
    batchSize: t.batchSize,
    lrMax: t.lrMax,
    weightDecay: t.wd,
    pctStart: t.pctStart,
    div: t.div,
    divFinal: t.divFinal,
    moms: [...t.moms],
    seed: t.seed,
    device: t.device,
    threads: t.threads ?? 0,
    presize: { height: ph, width: pw, method: recipe.presize.method, padMode: recipe.presize.padMode },
    augment: { height: ah, width: aw, minScale: a.minScale, doFlip: a.doFlip, flipVert: a.flipVert, maxRotate: a.maxRotate, minZoom: a.minZoom, maxZoom: a.maxZoom, maxWarp: a.maxWarp, pAffine: a.pAffine, maxLighting: a.maxLighting, pLighting: a.pLighting, mean: [...a.mean], std: [...a.std] },
  };
}

export function pipelineRequestOf(dataDir: string, runId: string, recipe: Recipe): MessageInitShape<typeof PipelineRequestedSchema> {
  return { runId, dataset: { dataDir: resolve(dataDir), validPct: recipe.dataset.validPct, seed: recipe.dataset.seed }, training: trainingSpecOf(recipe) };
}

/** Resolve when the run ends: submission.created (ok) or stage.failed (the reason). */
export async function waitForRun(bus: EventBus, runId: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const failed = (await bus.read(subjects.stageFailed, StageFailedSchema)).find((e) => e.message.runId === runId);
    if (failed) return { ok: false, detail: `${failed.message.stage}: ${failed.message.reason}` };
    const done = (await bus.read(subjects.submissionCreated, SubmissionCreatedEventSchema)).find((e) => e.message.runId === runId);
    if (done) return { ok: true, detail: done.message.submission?.path ?? '' };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ok: false, detail: `no submission.created or stage.failed for ${runId} within ${timeoutMs} ms` };
}

interface TriggerFlags extends Omit<RunFlags, 'out'> {
  nats?: string;
  msgId?: string;
  wait?: boolean;
  timeoutMs: number;
}

export function register(program: Command): void {
  recipeOptions(
    program
      .command('trigger')
      .description('publish paddock.pipeline.requested for a dataset; services started with `paddock serve … --nats` do the work')
      .requiredOption('--data <dir>', 'dataset folder (must lie inside the services\' PADDOCK_DATA_ROOTS)')
      .option('--run-id <id>', 'run folder name (default: <dataset>-<random>)')
      .option('--nats <url>', `NATS server URL(s) (env ${SERVE_ENV.natsUrl})`)
      .option('--msg-id <id>', 'de-duplication id (default: the run id)')
      .option('--wait', 'wait for submission.created or stage.failed of this run; exit 1 on failure')
      .option('--timeout-ms <ms>', 'with --wait: how long to wait', number('--timeout-ms'), 3_600_000),
  ).action(async (flags: TriggerFlags) => {
    const recipe = recipeFrom(flags);
    const runId = flags.runId ?? `${basename(resolve(flags.data))}-${randomUUID().slice(0, 8)}`;
    runDirOf('.', runId); // a run id the stages would refuse is refused here, before publishing
    const bus = await JetStreamEventBus.connect(natsOptionsFrom(process.env, flags.nats ? { servers: flags.nats.split(','), name: 'paddock-trigger' } : { name: 'paddock-trigger' }));
    try {
      const ack = await bus.publish(subjects.pipelineRequested, PipelineRequestedSchema, pipelineRequestOf(flags.data, runId, recipe), { msgId: flags.msgId ?? runId });
      process.stdout.write(`${JSON.stringify({ runId, seq: ack.seq, duplicate: ack.duplicate })}\n`);
      if (flags.wait) {
        const result = await waitForRun(bus, runId, flags.timeoutMs);
        process.stdout.write(`${JSON.stringify({ runId, ...result })}\n`);
        if (!result.ok) process.exitCode = 1;
      }
    } finally {
      await bus.close();
    }
  });
}
