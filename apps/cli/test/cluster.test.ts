// Cluster mode in one test process: real gRPC servers on loopback ports and a real nats-server
// (started here on a free port with a temp store). The stages are the same library functions
// `paddock run` calls; these tests check the shells around them.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AugmentService, EvaluationService, SubmissionService, TrainingService, readManifestFile, DatasetIngestedSchema, Health, HealthCheckResponse_ServingStatus, IngestionService, ModelExportedSchema, PipelineRequestedSchema, Split, StageFailedSchema, SubmissionCreatedEventSchema, TrainingProgressSchema, subjects, type Batch, type DatasetManifest } from '@paddock/contracts';
import { JetStreamEventBus, startNatsServer, type NatsServer } from '@paddock/events';
import { createClient, silentLogger, status } from '@paddock/rpc';
import { augmentWorkers, remoteBatches } from '@paddock/training/remote-batches';
import { serveStage, type ServingStage } from '../src/commands/serve.ts';
import { colourDataset } from './support.ts';
import { runStatus } from '../src/commands/status.ts';
import { pipelineRequestOf, trainingSpecOf, waitForRun } from '../src/commands/trigger.ts';
import { recipeFrom } from '../src/options.ts';

const exec = promisify(execFile);
const bin = join(import.meta.dirname, '../bin/paddock.js');


const recipe = recipeFrom({ epochs: 2, batchSize: 8, arch: 'resnet-tiny', presize: 36, size: 32, lr: 0.01, threads: 2 });
let root: string;
let data: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'paddock-cluster-'));
  data = join(root, 'data', 'colours');
  await colourDataset(data, 16, 6);
}, 30_000);

const collect = async (it: AsyncIterable<Batch>) => {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
};

describe('gRPC services', () => {
  const servers: ServingStage[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop(100);
  });

  it('ingests over gRPC, then 2 augment workers serve an epoch: each item once, equal to 1 worker, even when one dies', async () => {
    const base = { runsDir: join(root, 'runs-grpc'), dataRoots: [join(root, 'data')], log: silentLogger };
    const ingestion = await serveStage({ ...base, stage: 'ingestion', port: 0, host: '127.0.0.1' });
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => serveStage({ ...base, stage: 'augment', port: 0, host: '127.0.0.1' })));
    servers.push(ingestion, a, b, c);

    const health = createClient(Health, `127.0.0.1:${a.port}`);
    expect((await health.check({ service: 'paddock.v1.AugmentService' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    health.close();

    const ingest = createClient(IngestionService, `127.0.0.1:${ingestion.port}`);
    await expect(ingest.ingest({ spec: { dataDir: `${root}/data/../data/colours` } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(ingest.ingest({ spec: { dataDir: tmpdir() } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const { manifest } = await ingest.ingest({ spec: { dataDir: data, validPct: 0.2, seed: 42 } });
    ingest.close();
    expect(manifest!.vocab).toEqual(['blues', 'reds']);
    const trainCount = manifest!.items.filter((i) => i.split === Split.TRAIN).length;

    const spec = trainingSpecOf(recipe);
    const request = { manifest: manifest as DatasetManifest, split: Split.TRAIN, epoch: 1, seed: 42, batchSize: 4, presize: spec.presize, augment: spec.augment };
    const [ca, cb, cc] = [a, b, c].map((s) => createClient(AugmentService, `127.0.0.1:${s.port}`));
    const single = await collect((async function* () {
      for await (const r of ca.streamBatches({ ...request, shardIndex: 0, shardCount: 1 })) yield r.batch!;
    })());
    const listed = await augmentWorkers(`127.0.0.1:${a.port}, 127.0.0.1:${b.port}`);
    expect(listed.map((w) => w.address)).toEqual([ca.address, cb.address]);
    for (const w of listed) w.close();
    const sharded = await collect(remoteBatches([ca, cb], request));
    const indices = sharded.flatMap((x) => x.itemIndices);
    expect(new Set(indices).size).toBe(indices.length);
    expect(indices.length).toBe(Math.floor(trainCount / 4) * 4); // drop_last
    expect(sharded.map((x) => x.index)).toEqual(single.map((x) => x.index));
    for (let i = 0; i < single.length; i++) {
      expect(sharded[i].itemIndices).toEqual(single[i].itemIndices);
      expect(Buffer.from(sharded[i].images!.data).equals(Buffer.from(single[i].images!.data))).toBe(true);
      expect(sharded[i].labels!.data).toEqual(single[i].labels!.data);
    }

    // A worker killed mid-epoch: its outstanding batches are re-requested from the other one.
    const lost: string[] = [];
    let killed = false;
    const survived: Batch[] = [];
    for await (const x of remoteBatches([ca, cc], request, { onWorkerLost: (address) => lost.push(address) })) {
      survived.push(x);
      if (!killed) {
        killed = true;
        await c.stop(0);
      }
    }
    expect(lost).toEqual([cc.address]);
    expect(survived.map((x) => x.itemIndices)).toEqual(single.map((x) => x.itemIndices));
    expect(survived.every((x, i) => Buffer.from(x.images!.data).equals(Buffer.from(single[i].images!.data)))).toBe(true);

    // Deadlines are honoured: a call that cannot finish in 1 ms ends DEADLINE_EXCEEDED.
    const late = (async () => {
      for await (const _ of cb.streamBatches({ ...request, epoch: 7, shardIndex: 0, shardCount: 1 }, { timeoutMs: 1 })) void _;
    })();
    await expect(late).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    for (const client of [ca, cb, cc]) client.close();
  }, 60_000);
});

describe('paddock serve as a process', () => {
  it('prints its port, answers health checks, logs JSON lines, and on SIGTERM turns NOT_SERVING and exits 0', async () => {
    const child = spawn(process.execPath, [bin, 'serve', 'augment', '--port', '0', '--host', '127.0.0.1', '--grace-ms', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(String(d)));
      child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
    });
    const { port, stage } = JSON.parse(line);
    expect(stage).toBe('augment');
    const health = createClient(Health, `127.0.0.1:${port}`);
    expect((await health.check({ service: 'paddock.v1.AugmentService' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const watch = health.watch({ service: 'paddock.v1.AugmentService' })[Symbol.asyncIterator]();
    expect((await watch.next()).value.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    child.kill('SIGTERM');
    expect((await watch.next()).value?.status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    expect(await exited).toBe(0);
    health.close();
    const logs = stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['listening', 'shutting down', 'stopped']));
    expect(logs.every((l) => l.time && l.level && l.component === 'paddock-augment')).toBe(true);
  }, 30_000);
});

describe('pipeline on NATS JetStream events', () => {
  let nats: NatsServer;
  let pipeline: ServingStage;
  const runsDir = () => join(root, 'runs');
  beforeAll(async () => {
    nats = await startNatsServer();
    pipeline = await serveStage({ stage: 'pipeline', port: 0, host: '127.0.0.1', runsDir: runsDir(), dataRoots: [join(root, 'data')], nats: nats.url, log: silentLogger });
  }, 30_000);
  afterAll(async () => {
    await pipeline?.stop(100);
    await nats?.stop();
  });

  it('`paddock trigger` runs ingest → train → evaluate → submit once, even when the request is repeated', async () => {
    const flags = ['--epochs', '2', '--batch-size', '8', '--arch', 'resnet-tiny', '--presize', '36', '--size', '32', '--lr', '0.01', '--threads', '2'];
    const { stdout } = await exec(process.execPath, [bin, 'trigger', '--data', data, '--nats', nats.url, '--run-id', 'r1', ...flags]);
    expect(JSON.parse(stdout)).toMatchObject({ runId: 'r1', duplicate: false });
    const bus = await JetStreamEventBus.connect({ servers: nats.url });
    try {
      // The same message again (same id: JetStream drops it) and a replay under a new id (the ledger skips it).
      const request = pipelineRequestOf(data, 'r1', recipe);
      expect((await bus.publish(subjects.pipelineRequested, PipelineRequestedSchema, request, { msgId: 'r1' })).duplicate).toBe(true);
      expect((await bus.publish(subjects.pipelineRequested, PipelineRequestedSchema, request, { msgId: 'r1-replay' })).duplicate).toBe(false);
      const result = await waitForRun(bus, 'r1', 90_000);
      expect(result).toEqual({ ok: true, detail: 'r1/submission.csv' });
      await new Promise((r) => setTimeout(r, 500)); // let the replay reach every stage
      const run = join(runsDir(), 'r1');
      for (const f of ['manifest.json', 'audit.json', 'pipeline.json', 'metrics.csv', 'model.onnx', 'evaluation.json', 'confusion_matrix.png', 'submission.csv']) expect(existsSync(join(run, f)), f).toBe(true);
      expect(readFileSync(join(run, 'submission.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
      const count = async (subject: string, schema: Parameters<typeof bus.read>[1]) => (await bus.read(subject, schema)).length;
      expect(await count(subjects.pipelineRequested, PipelineRequestedSchema)).toBe(2);
      expect(await count(subjects.datasetIngested, DatasetIngestedSchema)).toBe(1);
      expect(await count(subjects.trainingProgress, TrainingProgressSchema)).toBe(2);
      expect(await count(subjects.modelExported, ModelExportedSchema)).toBe(1);
      expect(await count(subjects.submissionCreated, SubmissionCreatedEventSchema)).toBe(1);
      expect(runStatus(runsDir(), 'r1').map((s) => [s.stage, s.state, s.attempts])).toEqual([
        ['ingestion', 'done', 1],
        ['training', 'done', 1],
        ['evaluation', 'done', 1],
        ['submission', 'done', 1],
      ]);
      const shown = await exec(process.execPath, [bin, 'status', 'r1', '--runs', runsDir()]);
      expect(shown.stdout).toMatch(/^submission\s+done/m);
    } finally {
      await bus.close();
    }
  }, 120_000);

  it('Train streams progress per epoch; Evaluate and Submit over gRPC match the event-driven run', async () => {
    const address = `127.0.0.1:${pipeline.port}`;
    const run = join(runsDir(), 'r1');
    const manifest = readManifestFile(join(run, 'manifest.json'));
    const out = join(root, 'grpc-out');
    const training = createClient(TrainingService, address);
    const progress = [];
    for await (const r of training.train({ manifest, spec: trainingSpecOf(recipe), outDir: out })) progress.push(r.progress!);
    training.close();
    expect(progress.map((p) => p.epoch)).toEqual([0, 1]);
    expect(progress[1].metrics!.errorRate).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n')[2].split(',').slice(0, 5)).toEqual(readFileSync(join(run, 'metrics.csv'), 'utf8').split('\n')[2].split(',').slice(0, 5));
    const evaluation = createClient(EvaluationService, address);
    const { report } = await evaluation.evaluate({ manifest, modelPath: join(run, 'model.onnx'), outDir: out });
    evaluation.close();
    expect(report!.errorRate).toBe(JSON.parse(readFileSync(join(run, 'evaluation.json'), 'utf8')).errorRate);
    const submission = createClient(SubmissionService, address);
    const { submission: created } = await submission.submit({ manifest, modelPath: join(run, 'model.onnx'), outDir: out });
    submission.close();
    expect(created!.rows).toBe(6);
    expect(readFileSync(created!.path, 'utf8')).toBe(readFileSync(join(run, 'submission.csv'), 'utf8'));
    const empty = createClient(EvaluationService, address);
    await expect(empty.evaluate({})).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    empty.close();
  }, 60_000);

  it('a dataset outside the roots or a run id with ".." fails the run with the reason, without reading anything', async () => {
    const bus = await JetStreamEventBus.connect({ servers: nats.url });
    try {
      await bus.publish(subjects.pipelineRequested, PipelineRequestedSchema, pipelineRequestOf(`${data}/../../..`, 'escape', recipe), { msgId: 'escape' });
      await bus.publish(subjects.pipelineRequested, PipelineRequestedSchema, pipelineRequestOf(data, '../up', recipe), { msgId: 'up' });
      const escape = await waitForRun(bus, 'escape', 10_000);
      expect(escape.ok).toBe(false);
      expect(escape.detail).toMatch(/^ingestion: .*outside the dataset roots/);
      const up = await waitForRun(bus, '../up', 10_000);
      expect(up.detail).toMatch(/run id/);
      expect(runStatus(runsDir(), 'escape')[0]).toMatchObject({ state: 'failed', attempts: 1 });
      void StageFailedSchema;
    } finally {
      await bus.close();
    }
  }, 30_000);
});
