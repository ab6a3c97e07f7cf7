// The training stage as a service: Train over gRPC (progress streamed, the last message carrying
// the final epoch's metrics) and the dataset.ingested → model.exported event handler, publishing
// training.progress after every epoch. Both call train() exactly as `paddock run` does.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { augmentOptionsFrom, presizeSpecFrom } from '@paddock/augment/service';
import {
  DatasetIngestedSchema,
  EpochMetricsSchema,
  ModelExportedSchema,
  PipelineRequestedSchema,
  TrainingProgressSchema,
  TrainingService,
  TrainingSpecSchema,
  readManifestFile,
  subjects,
  type DatasetIngested,
  type DatasetManifest,
  type TrainingSpec,
} from '@paddock/contracts';
import { runStage, type StageContext, type Subscription, type StageServiceOptions as BaseStageServiceOptions } from '@paddock/events';
import type { EpochRecord } from '@paddock/learner';
import { register, type Registration } from '@paddock/rpc';
import type { Device } from '@paddock/runtime';
import { sha256 } from '@paddock/store';
import type { BatchSource } from './batch-source.ts';
import { augmentWorkers, type RemoteBatchesOptions } from './remote-batches.ts';
import { train, type TrainSpec } from './train.ts';

/** Environment the training service reads. */
export const TRAINING_ENV = {
  /** Augment workers to pull batches from: host:port[,host:port…] or dns:///name:port. Unset: augment in process. */
  augmentWorkers: 'PADDOCK_AUGMENT_WORKERS',
} as const;

/**
 * Run `use` with the batch source `target` names (TRAINING_ENV.augmentWorkers when undefined):
 * augment workers, resolved afresh for each run (a scaled Deployment's pods), or local augmentation.
 */
export async function withBatchSource<T>(target: string | undefined, use: (source: BatchSource) => Promise<T>, onWorkerLost?: RemoteBatchesOptions['onWorkerLost']): Promise<T> {
  const named = target ?? process.env[TRAINING_ENV.augmentWorkers];
  if (!named) return use({ kind: 'local' });
  const workers = await augmentWorkers(named);
  try {
    return await use({ kind: 'remote', workers, options: { onWorkerLost } });
  } finally {
    for (const w of workers) w.close();
  }
}

/** Proto TrainingSpec → train()'s inputs. Zero-valued numbers take fastai's defaults. */
export function trainSpecFrom(spec: TrainingSpec | undefined, manifest: DatasetManifest, outDir: string): TrainSpec {
  if (!spec) throw new RangeError('training spec is required');
  if (!spec.arch) throw new RangeError('training.arch is required');
  if (!(spec.epochs > 0)) throw new RangeError('training.epochs must be a positive integer');
  if (!(spec.batchSize > 0)) throw new RangeError('training.batch_size must be a positive integer');
  const moms = spec.moms.length === 3 ? ([spec.moms[0], spec.moms[1], spec.moms[2]] as [number, number, number]) : ([0.95, 0.85, 0.95] as [number, number, number]);
  return {
    manifest,
    outDir,
    presize: presizeSpecFrom(spec.presize),
    augment: augmentOptionsFrom(spec.augment),
    training: {
      arch: spec.arch,
      epochs: spec.epochs,
      batchSize: spec.batchSize,
      lrMax: spec.lrMax || 1e-3,
      wd: spec.weightDecay,
      pctStart: spec.pctStart || 0.25,
      div: spec.div || 25,
      divFinal: spec.divFinal || 1e5,
      moms,
      seed: spec.seed,
      device: (spec.device || 'cpu') as Device,
      threads: spec.threads || undefined,
    },
  };
}

const metricsOf = (r: EpochRecord) => create(EpochMetricsSchema, { epoch: r.epoch, trainLoss: r.trainLoss, validLoss: r.validLoss, errorRate: r.errorRate, accuracy: r.accuracy, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond });

export interface TrainingServiceOptions {
  /** Augment workers (default env PADDOCK_AUGMENT_WORKERS; empty string: augment in process). */
  augmentWorkers?: string;
}

export function trainingService(options: TrainingServiceOptions = {}): Registration {
  return register(TrainingService, {
    async *train(request) {
      if (!request.manifest) throw new RangeError('manifest is required');
      if (!request.outDir) throw new RangeError('out_dir is required');
      const queue: MessageInitShape<typeof TrainingProgressSchema>[] = [];
      let wake = () => {};
      let finished = false;
      let failure: unknown;
      const spec = trainSpecFrom(request.spec, request.manifest, request.outDir);
      const running = withBatchSource(options.augmentWorkers, (batchSource) => train({ ...spec, batchSource, onEpochEnd: (r) => void (queue.push({ epoch: r.epoch, metrics: metricsOf(r) }), wake()) }))
        .catch((e) => void (failure = e))
        .finally(() => ((finished = true), wake()));
      while (true) {
        while (queue.length) yield { progress: queue.shift()! };
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      await running;
      if (failure) throw failure;
    },
  });
}

export interface StageServiceOptions extends BaseStageServiceOptions {
  /** The node's execution provider, overriding the recipe's (a GPU pool sets cuda). */
  device?: Device;
  /** Augment workers (default env PADDOCK_AUGMENT_WORKERS; empty string: augment in process). */
  augmentWorkers?: string;
}

/** What a training run reads: the manifest (the dataset.ingested ref) and the run's recipe (pipeline.json). */
async function runInputs(event: DatasetIngested, ctx: StageContext) {
  const manifestPath = await ctx.resolve(event.manifestRef);
  const request = fromJson(PipelineRequestedSchema, JSON.parse(readFileSync(join(ctx.runDir, 'pipeline.json'), 'utf8')) as JsonValue);
  return { manifestPath, request };
}

/**
 * dataset.ingested → train (metrics.csv, loss.png, model.onnx) → model.exported. The outputs are
 * an artifact keyed by the manifest's hash, the training recipe and the node's device override:
 * a rerun of the same dataset and recipe does no work and announces the stored model.
 */
export function trainingHandler(options: StageServiceOptions): Promise<Subscription> {
  return runStage({
    bus: options.bus,
    stage: 'training',
    runsDir: options.runsDir,
    log: options.log,
    onSettled: options.onSettled,
    store: options.store,
    input: { subject: subjects.datasetIngested, schema: DatasetIngestedSchema },
    output: { subject: subjects.modelExported, schema: ModelExportedSchema },
    runIdOf: (m) => m.runId,
    artifact: {
      inputsOf: async (event, ctx) => {
        const { manifestPath, request } = await runInputs(event, ctx);
        const training = request.training ? toJson(TrainingSpecSchema, request.training) : null;
        return { stage: 'training', manifest: sha256(readFileSync(manifestPath)), training, maxPixels: String(request.dataset?.maxPixels ?? 0), device: options.device ?? '' };
      },
      // The stored model, announced for this run (its own manifest reference).
      reuse: (stored, event, ctx) => ({ ...stored, runId: ctx.runId, manifestRef: event.manifestRef }),
    },
    work: async (event, ctx) => {
      const { manifestPath, request } = await runInputs(event, ctx);
      const manifest = readManifestFile(manifestPath);
      const spec = trainSpecFrom(request.training, manifest, ctx.outDir);
      if (options.device) spec.training.device = options.device;
      const trained = await withBatchSource(options.augmentWorkers, (batchSource) =>
        train({
          ...spec,
          batchSource,
          maxPixels: request.dataset?.maxPixels ? Number(request.dataset.maxPixels) : undefined,
          log: (m) => options.log?.('info', m, { stage: 'training', runId: ctx.runId }),
          onEpochEnd: (r) => ctx.publish(subjects.trainingProgress, TrainingProgressSchema, { runId: ctx.runId, epoch: r.epoch, metrics: metricsOf(r) }, `${ctx.runId}/training/epoch-${r.epoch}`),
        }),
        (address, reason, outstanding) => options.log?.('warn', 'augment worker lost; its batches go to the others', { stage: 'training', runId: ctx.runId, address, reason, outstanding }),
      );
      return { runId: ctx.runId, modelPath: ctx.ref(basename(trained.modelPath)), manifestRef: event.manifestRef, sha256: sha256(readFileSync(trained.modelPath)), vocab: manifest.vocab, history: trained.history };
    },
  });
}
