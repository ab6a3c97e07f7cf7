// The submission stage as a service: Submit over gRPC and the evaluation.completed →
// submission.created event handler, both around submit().
import { create } from '@bufbuild/protobuf';
import { EvaluationCompletedSchema, SubmissionCreatedEventSchema, SubmissionCreatedSchema, SubmissionService, artifactRef, readManifestFile, subjects } from '@paddock/contracts';
import { runStage, type Subscription, type StageServiceOptions as BaseStageServiceOptions } from '@paddock/events';
import { register, type Registration } from '@paddock/rpc';
import { submit } from './submit.ts';

export function submissionService(): Registration {
  return register(SubmissionService, {
    async submit(request) {
      if (!request.manifest || !request.modelPath || !request.outDir) throw new RangeError('manifest, model_path and out_dir are required');
      const { created } = await submit({ manifest: request.manifest, modelPath: request.modelPath, outDir: request.outDir });
      return { submission: created };
    },
  });
}

export type StageServiceOptions = BaseStageServiceOptions;

export function submissionHandler(options: StageServiceOptions): Promise<Subscription> {
  return runStage({
    bus: options.bus,
    stage: 'submission',
    runsDir: options.runsDir,
    log: options.log,
    onSettled: options.onSettled,
    store: options.store,
    input: { subject: subjects.evaluationCompleted, schema: EvaluationCompletedSchema },
    output: { subject: subjects.submissionCreated, schema: SubmissionCreatedEventSchema },
    runIdOf: (m) => m.runId,
    work: async (event, ctx) => {
      const manifest = readManifestFile(await ctx.resolve(event.manifestRef));
      // No test_images: nothing to submit, but the pipeline still ends with submission.created.
      if (manifest.testItems.length === 0) return { runId: ctx.runId, submission: create(SubmissionCreatedSchema, { runId: ctx.runId, rows: 0, order: manifest.testOrder }) };
      const { created } = await submit({ manifest, modelPath: await ctx.resolve(event.modelRef), outDir: ctx.runDir, runId: ctx.runId });
      return { runId: ctx.runId, submission: { ...created, path: artifactRef(options.runsDir, created.path) } };
    },
  });
}
