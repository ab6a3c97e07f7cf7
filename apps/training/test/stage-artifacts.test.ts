// The training stage's event handler on a real nats-server with the JetStream object store: a
// second run of the same dataset and recipe trains nothing and announces the same model artifact;
// a changed recipe trains again.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toJsonString, type MessageInitShape } from '@bufbuild/protobuf';
import { DatasetIngestedSchema, DatasetManifestSchema, ModelExportedSchema, PipelineRequestedSchema, TrainingProgressSchema, resolveArtifact, subjects, type TrainingSpecSchema } from '@paddock/contracts';
import { augmentMessage, presizeMessage } from '@paddock/augment/service';
import { ARTIFACTS_ENV, JetStreamEventBus, StageLedger, artifactStoreFrom, startNatsServer, type NatsServer } from '@paddock/events';
import { augTransforms } from '@paddock/vision';
import { afterAll, expect, it } from 'vitest';
import { trainingHandler } from '../src/service.ts';
import { colourDataset } from './colours.ts';

let nats: NatsServer | undefined;
afterAll(async () => nats?.stop());

const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

it('an unchanged rerun reuses the stored model (no training, same artifact); a changed recipe retrains', async () => {
  nats = await startNatsServer();
  const bus = await JetStreamEventBus.connect({ servers: nats.url, ackWaitMs: 10_000 });
  const runsDir = mkdtempSync(join(tmpdir(), 'paddock-stage-artifacts-'));
  try {
    const manifest = await colourDataset();
    const store = await artifactStoreFrom(runsDir, bus, { [ARTIFACTS_ENV.store]: 'jetstream' });
    const training = (epochs: number): MessageInitShape<typeof TrainingSpecSchema> => ({
      arch: 'resnet-tiny', epochs, batchSize: 8, lrMax: 1e-2, weightDecay: 0.01, seed: 3, device: 'cpu', threads: 1,
      presize: presizeMessage({ size: 20, method: 'squish' }),
      augment: augmentMessage(augTransforms({ size: 16, minScale: 0.75 })),
    });
    // What ingestion leaves in each run folder: the manifest and the run's request.
    const ingested = async (runId: string, epochs: number) => {
      mkdirSync(join(runsDir, runId));
      writeFileSync(join(runsDir, runId, 'manifest.json'), toJsonString(DatasetManifestSchema, manifest));
      writeFileSync(join(runsDir, runId, 'pipeline.json'), toJsonString(PipelineRequestedSchema, create(PipelineRequestedSchema, { runId, training: training(epochs) })));
      await bus.publish(subjects.datasetIngested, DatasetIngestedSchema, { runId, manifestRef: `${runId}/manifest.json`, trainCount: 32 }, { msgId: `${runId}/ingestion` });
    };
    const sub = await trainingHandler({ bus, runsDir, store });
    await ingested('r1', 1);
    await ingested('r2', 1);
    await ingested('r3', 2);
    await until(async () => (await bus.read(subjects.modelExported, ModelExportedSchema)).length === 3, 90_000);
    await sub.stop();

    const exported = new Map((await bus.read(subjects.modelExported, ModelExportedSchema)).map((e) => [e.message.runId, e.message]));
    const [r1, r2, r3] = ['r1', 'r2', 'r3'].map((r) => exported.get(r)!);
    // Progress only from the runs that trained: r1 (1 epoch) and r3 (2 epochs).
    const progress = (await bus.read(subjects.trainingProgress, TrainingProgressSchema)).map((e) => `${e.message.runId}/${e.message.epoch}`);
    expect(progress).toEqual(['r1/0', 'r3/0', 'r3/1']);
    expect(r1.modelPath).toMatch(/^artifacts\/[0-9a-f]{64}\/model\.onnx$/);
    expect(r2.modelPath).toBe(r1.modelPath);
    expect(r2.sha256).toBe(r1.sha256);
    expect(r2.manifestRef).toBe('r2/manifest.json');
    expect(r2.history).toEqual(r1.history);
    expect(r3.modelPath).not.toBe(r1.modelPath);
    expect(r3.history).toHaveLength(2);
    // The run folder shows the model; the ledger names the artifact and that r2 reused it.
    expect(readFileSync(join(runsDir, 'r2', 'model.onnx')).equals(readFileSync(resolveArtifact(runsDir, r1.modelPath)))).toBe(true);
    expect(existsSync(join(runsDir, 'r2', 'metrics.csv'))).toBe(true);
    const key = r1.modelPath.split('/')[1];
    expect(new StageLedger(join(runsDir, 'r1')).get('training')).toMatchObject({ artifact: key, reused: false });
    expect(new StageLedger(join(runsDir, 'r2')).get('training')).toMatchObject({ artifact: key, reused: true });
    const record = (await store.get(key))!.record;
    expect(record.inputs).toMatchObject({ stage: 'training', training: { epochs: 1, arch: 'resnet-tiny' } });
    expect(record.files.map((f) => f.name)).toEqual(expect.arrayContaining(['model.onnx', 'metrics.csv', 'loss.png']));
  } finally {
    await bus.close();
  }
}, 120_000);
