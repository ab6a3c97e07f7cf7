// The evaluation stage as a service: Evaluate over gRPC and the model.exported →
// evaluation.completed event handler, both around evaluate().
import { EvaluationCompletedSchema, EvaluationService, ModelExportedSchema, readManifestFile, resolveArtifact, subjects } from '@paddock/contracts';
import { runStage, type Subscription, type StageServiceOptions as BaseStageServiceOptions } from '@paddock/events';
import { register, type Registration } from '@paddock/rpc';
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

export function evaluationHandler(options: StageServiceOptions): Promise<Subscription> {
  return runStage({
    bus: options.bus,
    stage: 'evaluation',
    runsDir: options.runsDir,
    log: options.log,
    onSettled: options.onSettled,
    input: { subject: subjects.modelExported, schema: ModelExportedSchema },
    output: { subject: subjects.evaluationCompleted, schema: EvaluationCompletedSchema },
    runIdOf: (m) => m.runId,
    work: async (event, ctx) => {
      const manifest = readManifestFile(resolveArtifact(options.runsDir, event.manifestRef));
      const { report } = await evaluate({ manifest, modelPath: resolveArtifact(options.runsDir, event.modelPath), outDir: ctx.runDir, runId: ctx.runId });
      return { runId: ctx.runId, report, modelRef: event.modelPath, manifestRef: event.manifestRef };
    },
  });
}
