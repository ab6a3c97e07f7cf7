// runStage: the event-handler shell every stage shares. It turns "event in → work → event out"
// into an idempotent, retried step: done work is never redone (the stored result event is
// re-published under the same message id), a failure is retried with backoff, and the last
// failure — or bad input, which no retry fixes — publishes stage.failed with the reason.
// A stage with content-addressed outputs (`artifact`) first looks its inputs' key up in the
// artifact store: found, it does no work and re-announces the stored result for this run.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { StageFailedSchema, artifactRef, resolveArtifact, runDirOf, subjects } from '@paddock/contracts';
import { artifactKey, linkArtifactFiles, type ArtifactInputs, type ArtifactStore } from '@paddock/store';
import type { EventBus, EventMeta, SubscribeOptions, Subscription } from './bus.ts';
import { StageLedger } from './ledger.ts';
import { ARTIFACTS_DIR, artifactStoreFrom } from './object-store.ts';

export interface StageContext {
  runId: string;
  runDir: string;
  attempt: number;
  /** Where the work writes its outputs: the run folder, or the artifact's staging folder. */
  outDir: string;
  /** The reference later stages resolve for `name` in outDir (into the artifact store when cached). */
  ref(name: string): string;
  /** A local path for an artifact reference from an event (fetched from the store when remote). */
  resolve(ref: string): Promise<string>;
  /** Publish an intermediate event (e.g. training.progress) with a message id unique to it. */
  publish<D extends DescMessage>(subject: string, schema: D, message: MessageInitShape<D>, msgId: string): Promise<void>;
}

export interface StageHandlerOptions<I extends DescMessage, O extends DescMessage> {
  bus: EventBus;
  stage: string;
  runsDir: string;
  input: { subject: string; schema: I };
  output: { subject: string; schema: O };
  runIdOf: (message: MessageShape<I>) => string;
  work: (message: MessageShape<I>, ctx: StageContext) => Promise<MessageInitShape<O>>;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  subscribe?: Omit<SubscribeOptions, 'durable'>;
  /** Called once a run's stage is settled here (done or failed), not for skipped repeats or retries. */
  onSettled?: (runId: string, state: 'done' | 'failed') => void;
  /** Where artifacts live (default: from the environment, see ARTIFACTS_ENV; local files when unset). */
  store?: ArtifactStore;
  /**
   * Content-addressed outputs: the work writes into ctx.outDir, which is stored under the key of
   * `inputsOf` and shown in the run folder; a later run with equal inputs does no work.
   */
  artifact?: {
    inputsOf: (message: MessageShape<I>, ctx: StageContext) => ArtifactInputs | Promise<ArtifactInputs>;
    /** This run's result from the stored one (default: the stored one with this run's id). */
    reuse?: (stored: MessageShape<O>, message: MessageShape<I>, ctx: StageContext) => MessageInitShape<O>;
  };
}

// Another worker holds the (run, stage) lock: look again once its lock would have gone stale.
class Busy extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export async function runStage<I extends DescMessage, O extends DescMessage>(options: StageHandlerOptions<I, O>): Promise<Subscription> {
  const { bus, stage, input, output } = options;
  const log = options.log ?? (() => {});
  const store = options.store ?? (await artifactStoreFrom(options.runsDir, bus));
  const artifactPrefix = `${ARTIFACTS_DIR}/`;
  const resolve = async (ref: string) => {
    if (ref.startsWith(artifactPrefix)) await store.get(ref.slice(artifactPrefix.length).split('/')[0]);
    return resolveArtifact(options.runsDir, ref);
  };
  const outputId = (runId: string) => `${runId}/${stage}`;
  const fail = async (runId: string, reason: string, attempt: number) => {
    await bus.publish(subjects.stageFailed, StageFailedSchema, { runId, stage, reason, attempt }, { msgId: `${runId}/${stage}/failed` });
  };

  const handle = async (message: MessageShape<I>, meta: EventMeta) => {
    const runId = options.runIdOf(message);
    let runDir: string;
    try {
      runDir = runDirOf(options.runsDir, runId);
    } catch (e) {
      log('warn', 'event rejected', { stage, runId, reason: (e as Error).message });
      await fail(runId, (e as Error).message, meta.deliveryCount);
      return;
    }
    // A crashed worker's lock must look stale by the time its event is redelivered.
    const ledger = new StageLedger(runDir, Math.min(15_000, (bus.ackWaitMs ?? 30_000) / 2));
    const prior = ledger.get(stage);
    if (prior?.state === 'done' || prior?.state === 'failed') {
      log('info', 'already handled; not repeating', { stage, runId, state: prior.state, msgId: meta.msgId, delivery: meta.deliveryCount });
      if (prior.state === 'done' && prior.output) await bus.publish(output.subject, output.schema, fromBinary(output.schema, Buffer.from(prior.output, 'base64')) as MessageInitShape<O>, { msgId: outputId(runId) });
      return;
    }
    const release = ledger.claim(stage);
    if (!release) {
      log('info', 'another worker holds this stage; will look again', { stage, runId });
      throw new Busy(`${stage} of ${runId} is in progress elsewhere`, ledger.staleMs);
    }
    const startedAt = new Date().toISOString();
    try {
      // Re-read under the lock: a concurrent worker may have finished between the check and the claim.
      const latest = ledger.get(stage);
      if (latest?.state === 'done' || latest?.state === 'failed') return;
      const attempts = (latest?.attempts ?? 0) + 1;
      ledger.put({ stage, state: 'running', attempts, startedAt, reason: latest?.reason });
      log('info', 'stage started', { stage, runId, attempt: attempts, delivery: meta.deliveryCount });
      let result: MessageShape<O>;
      let staging: string | undefined;
      try {
        const ctx: StageContext = {
          runId,
          runDir,
          attempt: attempts,
          outDir: runDir,
          ref: (name) => artifactRef(options.runsDir, join(runDir, name)),
          resolve,
          publish: async <D extends DescMessage>(subject: string, schema: D, m: MessageInitShape<D>, msgId: string) => {
            await bus.publish(subject, schema, m, { msgId });
          },
        };
        let artifact: { key: string; reused: boolean } | undefined;
        if (options.artifact) {
          const inputs = await options.artifact.inputsOf(message, ctx);
          const key = artifactKey(inputs);
          const found = await store.get(key);
          if (found?.record.result) {
            const stored = fromBinary(output.schema, Buffer.from(found.record.result, 'base64'));
            result = create(output.schema, options.artifact.reuse ? options.artifact.reuse(stored, message, ctx) : ({ ...stored, runId } as MessageInitShape<O>));
            linkArtifactFiles(found, runDir);
            artifact = { key, reused: true };
            log('info', 'inputs unchanged; reusing the stored artifact', { stage, runId, artifact: key });
          } else {
            staging = store.stagingDir();
            const work = { ...ctx, outDir: staging, ref: (name: string) => `${artifactPrefix}${key}/${name}` };
            result = create(output.schema, await options.work(message, work));
            const put = await store.put(key, staging, { inputs, result: Buffer.from(toBinary(output.schema, result)).toString('base64') });
            staging = undefined;
            linkArtifactFiles(put, runDir);
            artifact = { key, reused: false };
          }
        } else result = create(output.schema, await options.work(message, ctx));
        const bytes = toBinary(output.schema, result);
        ledger.put({ stage, state: 'done', attempts, startedAt, finishedAt: new Date().toISOString(), output: Buffer.from(bytes).toString('base64'), artifact: artifact?.key, reused: artifact?.reused });
      } catch (error) {
        if (staging) rmSync(staging, { recursive: true, force: true });
        const reason = (error as Error)?.message ?? String(error);
        const permanent = (error as { exitCode?: number })?.exitCode === 2 || (error as Error)?.name === 'RangeError';
        if (permanent || meta.lastAttempt) {
          ledger.put({ stage, state: 'failed', attempts, startedAt, finishedAt: new Date().toISOString(), reason });
          log('error', 'stage failed', { stage, runId, attempt: attempts, reason, permanent });
          await fail(runId, reason, attempts);
          options.onSettled?.(runId, 'failed');
          return;
        }
        ledger.put({ stage, state: 'retrying', attempts, startedAt, reason });
        log('warn', 'stage failed; will retry', { stage, runId, attempt: attempts, reason });
        throw error;
      }
      // Recorded first, announced second: if this publish fails (NATS away), the redelivery finds
      // "done" and re-publishes the stored result under the same message id — no work repeated.
      await bus.publish(output.subject, output.schema, result as MessageInitShape<O>, { msgId: outputId(runId) });
      log('info', 'stage done', { stage, runId, attempt: attempts });
      options.onSettled?.(runId, 'done');
    } finally {
      release();
    }
  };
  const subscription = await bus.subscribe(input.subject, input.schema, { durable: stage, ...options.subscribe }, handle);
  return {
    stop: async () => {
      await subscription.stop();
      // A store made here from the environment is this handler's to close; a given one is not.
      if (!options.store) await store.close?.();
    },
  };
}

/** What every stage's event handler is given (a stage may add its own fields). */
export type StageServiceOptions = Pick<StageHandlerOptions<never, never>, 'bus' | 'runsDir' | 'log' | 'onSettled' | 'store'>;
