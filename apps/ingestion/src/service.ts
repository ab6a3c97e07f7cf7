// The ingestion stage as a service: Ingest over gRPC, and the pipeline.requested → dataset.ingested
// event handler. Both confine the dataset folder to the configured roots before reading anything.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJsonString } from '@bufbuild/protobuf';
import { DatasetIngestedSchema, IngestionService, PipelineRequestedSchema, artifactRef, confineDataDir, subjects, type DatasetSpec } from '@paddock/contracts';
import { runStage, type Subscription, type StageServiceOptions as BaseStageServiceOptions } from '@paddock/events';
import { RpcError, register, status, type Registration } from '@paddock/rpc';
import { ingest } from './ingest.ts';
import { writeManifest } from './write.ts';

function specOf(spec: DatasetSpec | undefined, roots: readonly string[]) {
  if (!spec?.dataDir) throw new RangeError('dataset.data_dir is required');
  return { dataDir: confineDataDir(spec.dataDir, roots), validPct: spec.validPct, seed: spec.seed, maxPixels: spec.maxPixels ? Number(spec.maxPixels) : undefined };
}

export function ingestionService(options: { dataRoots: readonly string[] }): Registration {
  return register(IngestionService, {
    async ingest(request, ctx) {
      const spec = specOf(request.spec, options.dataRoots);
      const manifest = await ingest(spec);
      if (ctx.signal.aborted) throw new RpcError(status.CANCELLED, 'cancelled');
      return { manifest };
    },
  });
}

export interface StageServiceOptions extends BaseStageServiceOptions {
  dataRoots: readonly string[];
}

/** pipeline.requested → ingest into <runs>/<run>/ (manifest.json, audit.json, pipeline.json) → dataset.ingested. */
export function ingestionHandler(options: StageServiceOptions): Promise<Subscription> {
  return runStage({
    bus: options.bus,
    stage: 'ingestion',
    runsDir: options.runsDir,
    log: options.log,
    onSettled: options.onSettled,
    input: { subject: subjects.pipelineRequested, schema: PipelineRequestedSchema },
    output: { subject: subjects.datasetIngested, schema: DatasetIngestedSchema },
    runIdOf: (m) => m.runId,
    work: async (request, ctx) => {
      const manifest = await ingest(specOf(request.dataset, options.dataRoots));
      const { manifestPath } = await writeManifest(manifest, ctx.runDir);
      // The request travels with the run: later stages read the recipe from here.
      writeFileSync(join(ctx.runDir, 'pipeline.json'), `${toJsonString(PipelineRequestedSchema, request, { prettySpaces: 2 })}\n`);
      const audit = manifest.audit!;
      return { runId: ctx.runId, manifestRef: artifactRef(options.runsDir, manifestPath), trainCount: audit.trainCount, validCount: audit.validCount, testCount: audit.testCount };
    },
  });
}
