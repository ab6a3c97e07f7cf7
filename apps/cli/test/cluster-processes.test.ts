// The pipeline across processes on loopback: nats-server, and ingestion, training, evaluation and
// submission each a separate `paddock serve` process, driven by one `paddock trigger`; the result
// equals `paddock run` in one process with the same seed. Then another run with the NATS server
// restarted mid-run (nothing lost, nothing done twice), an unchanged rerun that reuses the stored
// training and evaluation artifacts, and training fed by two augment worker processes, one killed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetIngestedSchema, ModelExportedSchema, SubmissionCreatedEventSchema, subjects } from '@paddock/contracts';
import { JetStreamEventBus, startNatsServer, type NatsServer } from '@paddock/events';
import { runStatus } from '../src/commands/status.ts';
import { waitForRun } from '../src/commands/trigger.ts';
import { colourDataset } from './support.ts';

const exec = promisify(execFile);
const bin = join(import.meta.dirname, '../bin/paddock.js');
const recipeFlags = ['--epochs', '2', '--batch-size', '8', '--arch', 'resnet-tiny', '--presize', '36', '--size', '32', '--lr', '0.01', '--threads', '2', '--seed', '7'];


/** metrics.csv without the wall-time columns, which differ between any two runs. */
const metricsOf = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 5).join(','));

let root: string;
let data: string;
let nats: NatsServer;
const children: ChildProcess[] = [];

interface Served {
  child: ChildProcess;
  /** The gRPC port the process chose (its readiness line). */
  port: number;
}

function serve(stage: string, runsDir: string, url = nats.url, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', stage, '--port', '0', '--host', '127.0.0.1', '--nats', url, '--runs', runsDir, '--data-roots', root], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // Each process's JSON log lines, kept for a failing test's post-mortem.
  mkdirSync(join(root, 'logs'), { recursive: true });
  child.once('exit', () => writeFileSync(join(root, 'logs', `${stage}-${child.pid}.log`), stderr));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (line) => resolve({ child, port: (JSON.parse(String(line).split('\n')[0]) as { port: number }).port }));
    child.once('exit', (code, signal) => reject(new Error(`serve ${stage} exited ${code ?? signal}: ${stderr}`)));
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(children.splice(0).map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : (c.once('exit', () => resolve()), c.kill('SIGTERM'))))));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'paddock-procs-'));
  data = join(root, 'colours');
  await colourDataset(data, 16, 4, ['4.png', '2.png', '3.png', '1.png']);
  nats = await startNatsServer();
}, 30_000);
afterAll(async () => {
  await stopAll();
  await nats?.stop();
});

describe('the pipeline as separate processes', () => {
  it('one trigger → the same metrics and submission as `paddock run`; again with NATS restarted mid-run', async () => {
    const runsDir = join(root, 'runs');
    const local = exec(process.execPath, [bin, 'run', '--data', data, '--out', join(root, 'local'), '--run-id', 'same', ...recipeFlags]);
    await Promise.all(['ingestion', 'training', 'evaluation', 'submission'].map((s) => serve(s, runsDir)));
    await exec(process.execPath, [bin, 'trigger', '--data', data, '--nats', nats.url, '--run-id', 'same', ...recipeFlags]);
    const bus = await JetStreamEventBus.connect({ servers: nats.url });
    try {
      expect(await waitForRun(bus, 'same', 60_000)).toEqual({ ok: true, detail: 'same/submission.csv' });
      await local;
      const here = join(root, 'local', 'same');
      const there = join(runsDir, 'same');
      expect(metricsOf(there)).toEqual(metricsOf(here));
      expect(readFileSync(join(there, 'submission.csv'), 'utf8')).toBe(readFileSync(join(here, 'submission.csv'), 'utf8'));
      expect(JSON.parse(readFileSync(join(there, 'evaluation.json'), 'utf8')).errorRate).toBe(JSON.parse(readFileSync(join(here, 'evaluation.json'), 'utf8')).errorRate);

      // Second run, another seed (so nothing is reused): restart NATS as soon as the dataset is ingested.
      await exec(process.execPath, [bin, 'trigger', '--data', data, '--nats', nats.url, '--run-id', 'restarted', ...recipeFlags.slice(0, -1), '8']);
      const until = Date.now() + 30_000;
      while (!(await bus.read(subjects.datasetIngested, DatasetIngestedSchema)).some((e) => e.message.runId === 'restarted') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      await bus.close();
      await nats.restart();
    } finally {
      await bus.close().catch(() => {});
    }
    const after = await JetStreamEventBus.connect({ servers: nats.url });
    try {
      expect(await waitForRun(after, 'restarted', 60_000)).toEqual({ ok: true, detail: 'restarted/submission.csv' });
      const count = async (subject: string, schema: Parameters<typeof after.read>[1]) => (await after.read(subject, schema)).filter((e) => (e.message as unknown as { runId: string }).runId === 'restarted').length;
      expect(await count(subjects.datasetIngested, DatasetIngestedSchema)).toBe(1);
      expect(await count(subjects.modelExported, ModelExportedSchema)).toBe(1);
      expect(await count(subjects.submissionCreated, SubmissionCreatedEventSchema)).toBe(1);
      expect(runStatus(runsDir, 'restarted').map((s) => [s.state, s.attempts, s.reused ?? false])).toEqual([['done', 1, false], ['done', 1, false], ['done', 1, false], ['done', 1, false]]);
      expect(metricsOf(join(runsDir, 'restarted'))).not.toEqual(metricsOf(join(runsDir, 'same')));

      // Third run, the first one's inputs: training and evaluation come from the artifact store.
      await exec(process.execPath, [bin, 'trigger', '--data', data, '--nats', nats.url, '--run-id', 'again', ...recipeFlags]);
      expect(await waitForRun(after, 'again', 60_000)).toEqual({ ok: true, detail: 'again/submission.csv' });
      expect(runStatus(runsDir, 'again').map((s) => [s.stage, s.reused ?? false])).toEqual([['ingestion', false], ['training', true], ['evaluation', true], ['submission', false]]);
      expect(runStatus(runsDir, 'again')[1].artifact).toBe(runStatus(runsDir, 'same')[1].artifact);
      expect(metricsOf(join(runsDir, 'again'))).toEqual(metricsOf(join(runsDir, 'same')));
      expect(readFileSync(join(runsDir, 'again', 'submission.csv'), 'utf8')).toBe(readFileSync(join(runsDir, 'same', 'submission.csv'), 'utf8'));
    } finally {
      await after.close();
    }
  }, 150_000);

  it('a training worker killed mid-run: its event is redelivered to another worker, which finishes the run once', async () => {
    const crashNats = await startNatsServer();
    const runsDir = join(root, 'runs-crash');
    const fast = { PADDOCK_NATS_ACK_WAIT_MS: '2000' };
    try {
      await Promise.all(['ingestion', 'evaluation', 'submission'].map((s) => serve(s, runsDir, crashNats.url, fast)));
      const { child: doomed } = await serve('training', runsDir, crashNats.url, fast);
      await exec(process.execPath, [bin, 'trigger', '--data', data, '--nats', crashNats.url, '--run-id', 'crash', ...recipeFlags]);
      const until = Date.now() + 30_000;
      while (runStatus(runsDir, 'crash')[1].state !== 'running' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      doomed.kill('SIGKILL');
      await serve('training', runsDir, crashNats.url, fast);
      const bus = await JetStreamEventBus.connect({ servers: crashNats.url });
      try {
        expect(await waitForRun(bus, 'crash', 60_000)).toEqual({ ok: true, detail: 'crash/submission.csv' });
        expect((await bus.read(subjects.modelExported, ModelExportedSchema)).length).toBe(1);
        expect((await bus.read(subjects.submissionCreated, SubmissionCreatedEventSchema)).length).toBe(1);
      } finally {
        await bus.close();
      }
      expect(runStatus(runsDir, 'crash')[1]).toMatchObject({ stage: 'training', state: 'done', attempts: 2 });
      expect(metricsOf(join(runsDir, 'crash'))).toEqual(metricsOf(join(root, 'runs', 'same')));
    } finally {
      await stopAll();
      await crashNats.stop();
    }
  }, 60_000);
  it('training fed by two augment worker processes, one killed once training runs: the same metrics as one process', async () => {
    const workersNats = await startNatsServer();
    const runsDir = join(root, 'runs-workers');
    try {
      const [a, b] = await Promise.all([serve('augment', runsDir, workersNats.url), serve('augment', runsDir, workersNats.url)]);
      const trainer = await serve('training', runsDir, workersNats.url, { PADDOCK_AUGMENT_WORKERS: `127.0.0.1:${a.port},127.0.0.1:${b.port}` });
      let trainerLog = '';
      trainer.child.stderr!.on('data', (d) => (trainerLog += d));
      await Promise.all(['ingestion', 'evaluation', 'submission'].map((s) => serve(s, runsDir, workersNats.url)));
      await exec(process.execPath, [bin, 'trigger', '--data', data, '--nats', workersNats.url, '--run-id', 'workers', ...recipeFlags]);
      const until = Date.now() + 30_000;
      while (runStatus(runsDir, 'workers')[1].state !== 'running' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      b.child.kill('SIGKILL');
      const bus = await JetStreamEventBus.connect({ servers: workersNats.url });
      try {
        expect(await waitForRun(bus, 'workers', 60_000)).toEqual({ ok: true, detail: 'workers/submission.csv' });
      } finally {
        await bus.close();
      }
      expect(runStatus(runsDir, 'workers')[1]).toMatchObject({ stage: 'training', state: 'done', attempts: 1 });
      expect(trainerLog).toContain(`"msg":"augment worker lost; its batches go to the others","stage":"training","runId":"workers","address":"127.0.0.1:${b.port}"`);
      expect(metricsOf(join(runsDir, 'workers'))).toEqual(metricsOf(join(root, 'runs', 'same')));
      expect(readFileSync(join(runsDir, 'workers', 'submission.csv'), 'utf8')).toBe(readFileSync(join(root, 'runs', 'same', 'submission.csv'), 'utf8'));
    } finally {
      await stopAll();
      await workersNats.stop();
    }
  }, 90_000);
});
