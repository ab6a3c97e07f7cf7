// Training from augment workers: two real gRPC augment servers on loopback feed train(), which
// must end with the same weights and metrics as augmenting in process with the same seed — also
// when one worker is shut down mid-epoch and its batches come from the other.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AugmentWorker, augmentService } from '@paddock/augment/service';
import { DatasetManifestSchema, ItemSchema, Split } from '@paddock/contracts';
import { loadModel } from '@paddock/onnx';
import { startServer, type RunningServer } from '@paddock/rpc';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augmentWorkers } from '../src/remote-batches.ts';
import { withBatchSource } from '../src/service.ts';
import { train, type Trained, type TrainingRecipe } from '../src/index.ts';

const vocab = ['blue', 'red'];

/** 20 images per colour, widths 24-28 × 20: presize 'crop' draws a real position for each. */
async function dataset() {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-remote-'));
  const items = [];
  for (const [labelId, label] of vocab.entries()) {
    mkdirSync(join(dir, label));
    for (let i = 0; i < 20; i++) {
      const path = `${label}/${i}.png`;
      const px = Buffer.alloc((24 + (i % 5)) * 20 * 3);
      for (let k = 0; k < px.length; k++) px[k] = (k % 3 === (label === 'red' ? 0 : 2) ? 180 : 40) + ((k * 7919 + i * 104729) % 50);
      await sharp(px, { raw: { width: 24 + (i % 5), height: 20, channels: 3 } }).png().toFile(join(dir, path));
      items.push(create(ItemSchema, { path, label, labelId, split: i < 16 ? Split.TRAIN : Split.VALID }));
    }
  }
  return create(DatasetManifestSchema, { dataDir: dir, vocab, items, splitSeed: 42, validPct: 0.2 });
}

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
  let manifest: Awaited<ReturnType<typeof dataset>>;
  let local: Trained;
  const serveWorker = async () => {
    const worker = new AugmentWorker({ threads: 1 });
    workers.push(worker);
    const server = await startServer([augmentService(worker)], { port: 0, host: '127.0.0.1' });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    manifest = await dataset();
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

  it('a worker shut down mid-epoch: its batches come from the other, and nothing changes', async () => {
    const [a, b] = [await serveWorker(), await serveWorker()];
    const clients = await augmentWorkers(`127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    const lost: { address: string; outstanding: number[] }[] = [];
    let batchesSeen = 0;
    // After the first training step of epoch 0, worker b goes away (in-flight streams cancelled).
    const kill = { afterBatch: async () => void (++batchesSeen === 1 && (await b.shutdown(0))) };
    try {
      const remote = await train({
        ...base,
        manifest,
        callbacks: [kill],
        batchSource: { kind: 'remote', workers: clients, options: { stallMs: 10_000, onWorkerLost: (address, _reason, outstanding) => lost.push({ address, outstanding }) } },
        outDir: mkdtempSync(join(tmpdir(), 'paddock-remote-killed-')),
      });
      // Every stream b was asked for after it died failed; at the latest in epoch 1 it still owed
      // its shard (batches 1 and 3 of 4), which the survivor served by index.
      expect(lost.length).toBeGreaterThan(0);
      expect(lost.every((l) => l.address === clients[1].address)).toBe(true);
      expect(lost.some((l) => l.outstanding.includes(1) && l.outstanding.includes(3))).toBe(true);
      for (const [i, row] of metrics(remote).entries()) row.forEach((v, k) => expect(v).toBeCloseTo(metrics(local)[i][k], 6));
      expect(worstWeightDiff(local, remote)).toBeLessThan(1e-6);
    } finally {
      for (const c of clients) c.close();
    }
  }, 120_000);
});
