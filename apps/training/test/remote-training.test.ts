// Training from augment workers: two real gRPC augment servers on loopback feed train(), which
// must end with the same weights and metrics as augmenting in process with the same seed — also
// when one worker dies mid-epoch and its outstanding batches come from the other.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AugmentWorker, augmentService } from '@paddock/augment/service';
import { Split, type DatasetManifest, type StreamBatchesRequest } from '@paddock/contracts';
import { loadModel } from '@paddock/onnx';
import { startServer, type RunningServer } from '@paddock/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augmentWorkers } from '../src/remote-batches.ts';
import { withBatchSource } from '../src/service.ts';
import { train, type Trained, type TrainingRecipe } from '../src/index.ts';
import { colourDataset } from './colours.ts';

const recipe: TrainingRecipe = { arch: 'resnet-tiny', epochs: 2, batchSize: 8, lrMax: 1e-2, wd: 0.01, pctStart: 0.25, div: 25, divFinal: 1e5, moms: [0.95, 0.85, 0.95], seed: 11, device: 'cpu', threads: 1 };
// The presize method is left unset: the trainer's default (crop) must reach the workers as such.
const base = { training: recipe, presize: { size: 20 }, augment: { size: 16, minScale: 0.75 } };

function worstWeightDiff(a: Trained, b: Trained): number {
  const wa = loadModel(a.modelPath).graph.initializers;
  const wb = loadModel(b.modelPath).graph.initializers;
  expect([...wb.keys()]).toEqual([...wa.keys()]);
  let worst = 0;
  for (const [name, t] of wa) (t.data as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (wb.get(name)!.data as Float32Array)[i]))));
  return worst;
}
const metrics = (t: Trained) => t.history.map((h) => [h.epoch, h.trainLoss, h.validLoss, h.errorRate, h.accuracy]);

describe('train() from augment workers', () => {
  const servers: RunningServer[] = [];
  const workers: AugmentWorker[] = [];
  let manifest: DatasetManifest;
  let local: Trained;
  const serveWorker = async () => {
    const worker = new AugmentWorker({ threads: 1 });
    workers.push(worker);
    const server = await startServer([augmentService(worker)], { port: 0, host: '127.0.0.1' });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    manifest = await colourDataset();
    local = await train({ ...base, manifest, outDir: mkdtempSync(join(tmpdir(), 'paddock-remote-local-')) });
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.shutdown(0);
    for (const w of workers) await w.close();
  });

  it('two workers named in PADDOCK_AUGMENT_WORKERS give the local run\'s weights and metrics', async () => {
    const [a, b] = [await serveWorker(), await serveWorker()];
    const seen: number[] = [];
    const previous = process.env.PADDOCK_AUGMENT_WORKERS;
    process.env.PADDOCK_AUGMENT_WORKERS = `127.0.0.1:${a.port},127.0.0.1:${b.port}`;
    try {
      const remote = await withBatchSource(undefined, (batchSource) => {
        expect(batchSource.kind).toBe('remote');
        if (batchSource.kind === 'remote') seen.push(...batchSource.workers.map((w) => Number(w.address.split(':')[1])));
        return train({ ...base, manifest, batchSource, outDir: mkdtempSync(join(tmpdir(), 'paddock-remote-2-')) });
      });
      expect(seen).toEqual([a.port, b.port]);
      expect(metrics(remote)).toHaveLength(2);
      for (const [i, row] of metrics(remote).entries()) row.forEach((v, k) => expect(v).toBeCloseTo(metrics(local)[i][k], 6));
      expect(worstWeightDiff(local, remote)).toBeLessThan(1e-6);
    } finally {
      if (previous === undefined) delete process.env.PADDOCK_AUGMENT_WORKERS;
      else process.env.PADDOCK_AUGMENT_WORKERS = previous;
    }
  }, 120_000);

  it('a worker dying mid-epoch, its shard half served: the rest comes from the other, and nothing changes', async () => {
    const a = await serveWorker();
    // Worker b serves the first batch of its epoch-0 training shard (batch 1), then its server
    // shuts down with the call in flight: batch 3 is still owed.
    let b: RunningServer | undefined;
    class DyingWorker extends AugmentWorker {
      override async *stream(request: StreamBatchesRequest, signal?: AbortSignal) {
        for await (const batch of super.stream(request, signal)) {
          yield batch;
          if (request.split === Split.TRAIN && request.epoch === 0) {
            await b!.shutdown(0);
            return;
          }
        }
      }
    }
    const dying = new DyingWorker({ threads: 1 });
    workers.push(dying);
    b = await startServer([augmentService(dying)], { port: 0, host: '127.0.0.1' });
    servers.push(b);
    const clients = await augmentWorkers(`127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    const lost: { epoch: number; address: string; outstanding: number[] }[] = [];
    let epoch = -1;
    try {
      const remote = await train({
        ...base,
        manifest,
        callbacks: [{ beforeEpoch: () => void epoch++ }],
        batchSource: { kind: 'remote', workers: clients, options: { stallMs: 10_000, onWorkerLost: (address, _reason, outstanding) => lost.push({ epoch, address, outstanding }) } },
        outDir: mkdtempSync(join(tmpdir(), 'paddock-remote-killed-')),
      });
      // 32 training images in batches of 8: b's shard of epoch 0 is batches 1 and 3.
      expect(lost[0]).toMatchObject({ epoch: 0, address: clients[1].address });
      expect(lost[0].outstanding).toContain(3);
      expect(lost.every((l) => l.address === clients[1].address)).toBe(true);
      for (const [i, row] of metrics(remote).entries()) row.forEach((v, k) => expect(v).toBeCloseTo(metrics(local)[i][k], 6));
      expect(worstWeightDiff(local, remote)).toBeLessThan(1e-6);
    } finally {
      for (const c of clients) c.close();
    }
  }, 120_000);
});
