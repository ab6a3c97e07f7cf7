// Content-addressed stage outputs on a real nats-server: the JetStream object store holds them, a
// rerun with unchanged inputs does no work and points at the same artifact, a changed recipe
// recomputes, and another node (empty local cache) fetches the same bytes.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toJsonString } from '@bufbuild/protobuf';
import { DatasetIngestedSchema, PipelineRequestedSchema, TrainingSpecSchema, resolveArtifact, subjects } from '@paddock/contracts';
import { LocalArtifactStore, artifactKey } from '@paddock/store';
import { afterAll, expect, it } from 'vitest';
import { ARTIFACTS_ENV, JetStreamArtifactStore, JetStreamEventBus, MemoryEventBus, StageLedger, artifactStoreFrom, runStage, startNatsServer, type NatsServer } from '../src/index.ts';
import { until } from './until.ts';

let nats: NatsServer | undefined;
afterAll(async () => nats?.stop());

it('a rerun with unchanged inputs reuses the stored artifact; a changed recipe recomputes', async () => {
  nats = await startNatsServer();
  const bus = await JetStreamEventBus.connect({ servers: nats.url, ackWaitMs: 5000 });
  const runsDir = mkdtempSync(join(tmpdir(), 'paddock-artifacts-'));
  try {
    const store = await artifactStoreFrom(runsDir, bus, { [ARTIFACTS_ENV.store]: 'jetstream' });
    expect(store).toBeInstanceOf(JetStreamArtifactStore);
    const worked: string[] = [];
    const sub = await runStage({
      bus,
      store,
      stage: 'training',
      runsDir,
      input: { subject: subjects.pipelineRequested, schema: PipelineRequestedSchema },
      output: { subject: subjects.datasetIngested, schema: DatasetIngestedSchema },
      runIdOf: (m) => m.runId,
      artifact: { inputsOf: (m) => ({ stage: 'training', recipe: toJsonString(TrainingSpecSchema, m.training!) }) },
      work: async (m, ctx) => {
        worked.push(m.runId);
        writeFileSync(join(ctx.outDir, 'model.txt'), `trained ${m.training!.epochs} epochs`);
        return { runId: ctx.runId, manifestRef: ctx.ref('model.txt'), trainCount: m.training!.epochs };
      },
    });
    const request = (runId: string, epochs: number) => bus.publish(subjects.pipelineRequested, PipelineRequestedSchema, { runId, training: { arch: 'resnet-tiny', epochs } }, { msgId: runId });
    await request('r1', 2);
    await request('r2', 2);
    await request('r3', 3);
    await until(async () => (await bus.read(subjects.datasetIngested, DatasetIngestedSchema)).length === 3);
    await sub.stop();

    expect(worked).toEqual(['r1', 'r3']);
    const out = new Map((await bus.read(subjects.datasetIngested, DatasetIngestedSchema)).map((e) => [e.message.runId, e.message]));
    const key = artifactKey({ stage: 'training', recipe: toJsonString(TrainingSpecSchema, create(TrainingSpecSchema, { arch: 'resnet-tiny', epochs: 2 })) });
    expect(out.get('r1')!.manifestRef).toBe(`artifacts/${key}/model.txt`);
    expect(out.get('r2')!.manifestRef).toBe(out.get('r1')!.manifestRef);
    expect(out.get('r2')!.trainCount).toBe(2);
    expect(out.get('r3')!.manifestRef).not.toBe(out.get('r1')!.manifestRef);
    expect(readFileSync(resolveArtifact(runsDir, out.get('r3')!.manifestRef), 'utf8')).toBe('trained 3 epochs');
    // Each run folder shows the files; the ledger says which artifact and whether it was reused.
    expect(readFileSync(join(runsDir, 'r2', 'model.txt'), 'utf8')).toBe('trained 2 epochs');
    expect(new StageLedger(join(runsDir, 'r1')).get('training')).toMatchObject({ state: 'done', artifact: key, reused: false });
    expect(new StageLedger(join(runsDir, 'r2')).get('training')).toMatchObject({ state: 'done', artifact: key, reused: true });

    // Another node: nothing in its cache, everything in the bucket, record with the inputs.
    const elsewhere = mkdtempSync(join(tmpdir(), 'paddock-node2-'));
    const other = await JetStreamArtifactStore.open(bus.connection, { cacheDir: join(elsewhere, 'artifacts') });
    expect(existsSync(join(elsewhere, 'artifacts', key))).toBe(false);
    expect(await other.has(key)).toBe(true);
    expect(await other.has('0'.repeat(64))).toBe(false);
    const fetched = (await other.get(key))!;
    expect(fetched.dir).toBe(join(elsewhere, 'artifacts', key));
    expect(readFileSync(join(fetched.dir, 'model.txt'), 'utf8')).toBe('trained 2 epochs');
    expect(fetched.record.inputs).toEqual({ stage: 'training', recipe: expect.stringContaining('"epochs":2') });
    expect(fetched.record.files.map((f) => [f.name, f.size])).toEqual([['model.txt', 16]]);

    // PADDOCK_ARTIFACTS as a URL: a connection of the store's own to the same bucket.
    const byUrl = await artifactStoreFrom(mkdtempSync(join(tmpdir(), 'paddock-node3-')), undefined, { [ARTIFACTS_ENV.store]: nats.url });
    expect(await byUrl.has(key)).toBe(true);
    await byUrl.close?.();
    await expect(artifactStoreFrom(runsDir, new MemoryEventBus(), { [ARTIFACTS_ENV.store]: 'jetstream' })).rejects.toThrow(/needs the NATS event bus/);
    await expect(artifactStoreFrom(runsDir, bus, { [ARTIFACTS_ENV.store]: 's3://x' })).rejects.toThrow(/choose file, jetstream or a nats:\/\/ URL/);
    expect(await artifactStoreFrom(runsDir, bus, {})).toBeInstanceOf(LocalArtifactStore);
  } finally {
    await bus.close();
  }
}, 30_000);
