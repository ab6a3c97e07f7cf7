// The evaluation stage as a service: Evaluate over gRPC and the model.exported →
// evaluation.completed event handler, both around evaluate().
import { readFileSync } from 'node:fs';
import { EvaluationCompletedSchema, EvaluationService, ModelExportedSchema, readManifestFile, subjects } from '@paddock/contracts';
import { runStage, type Subscription, type StageServiceOptions as BaseStageServiceOptions } from '@paddock/events';
import { register, type Registration } from '@paddock/rpc';
import { sha256 } from '@paddock/store';
import { evaluate } from './evaluate.ts';

export function evaluationService(): Registration {
  return register(EvaluationService, {
    async evaluate(request) {
      if (!request.manifest || !request.modelPath || !request.outDir) throw new RangeError('manifest, model_path and out_dir are required');
      const { report } = await evaluate({ manifest: request.manifest, modelPath: request.modelPath, outDir: request.outDir });
      return { report };
    },
  });
}

export type StageServiceOptions = BaseStageServiceOptions;

/**
 * model.exported → evaluate (evaluation.json and the pictures) → evaluation.completed. The outputs
 * are an artifact keyed by the manifest's hash and the model's content hash: the same model on
 * the same dataset is evaluated once. evaluation.json leaves the run id out (it is content);
 * the event carries it.
 */
export function evaluationHandler(options: StageServiceOptions): Promise<Subscription> {
  return runStage({
    bus: options.bus,
    stage: 'evaluation',
    runsDir: options.runsDir,
    log: options.log,
    onSettled: options.onSettled,
    store: options.store,
    input: { subject: subjects.modelExported, schema: ModelExportedSchema },
    output: { subject: subjects.evaluationCompleted, schema: EvaluationCompletedSchema },
    runIdOf: (m) => m.runId,
    artifact: {
      inputsOf: async (event, ctx) => ({ stage: 'evaluation', manifest: sha256(readFileSync(await ctx.resolve(event.manifestRef))), model: event.sha256 }),
      reuse: (stored, event, ctx) => ({ ...stored, runId: ctx.runId, report: stored.report && { ...stored.report, runId: ctx.runId }, modelRef: event.modelPath, manifestRef: event.manifestRef }),
    },
    work: async (event, ctx) => {
      const manifest = readManifestFile(await ctx.resolve(event.manifestRef));
      const { report } = await evaluate({ manifest, modelPath: await ctx.resolve(event.modelPath), outDir: ctx.outDir });
      return { runId: ctx.runId, report: { ...report, runId: ctx.runId }, modelRef: event.modelPath, manifestRef: event.manifestRef };
    },
  });
}
