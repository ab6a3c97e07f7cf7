// The trainer's side of distributed augmentation: one epoch's batches pulled from several augment
// workers at once (worker i serves shard i of n), handed out in index order. A worker that fails
// or stalls is dropped and its outstanding batches are re-requested by index from the others, so
// every batch — and so every item — arrives exactly once, equal to a single worker's.
import { lookup } from 'node:dns/promises';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { batchOrder } from '@paddock/augment';
import { AugmentService, Split, type Batch, type StreamBatchesRequestSchema } from '@paddock/contracts';
import { createClient, type ServiceClient } from '@paddock/rpc';

export type AugmentClient = ServiceClient<(typeof AugmentService)['method']>;

export interface RemoteBatchesOptions {
  /** A worker silent for this long is treated as dead (default 60 s). */
  stallMs?: number;
  onWorkerLost?: (address: string, reason: string, outstanding: number[]) => void;
}

export async function* remoteBatches(workers: AugmentClient[], request: MessageInitShape<typeof StreamBatchesRequestSchema>, options: RemoteBatchesOptions = {}): AsyncGenerator<Batch> {
  if (workers.length === 0) throw new RangeError('remoteBatches: no augment workers given');
  const split = request.split ?? Split.TRAIN;
  const train = split === Split.TRAIN;
  const n = (request.manifest?.items ?? []).filter((i) => i.split === split).length;
  const total = batchOrder(n, { batchSize: request.batchSize ?? 0, shuffle: train, dropLast: train, epoch: request.epoch ?? 0, seed: request.seed ?? 0 }).length;
  const stallMs = options.stallMs ?? 60_000;
  const received = new Map<number, Batch>();
  const live = new Set(workers.map((_, i) => i));
  let wake = () => {};
  let fatal: Error | undefined;

  // One call of StreamBatches on worker w, expected to deliver exactly the batches in `want`.
  const pull = async (w: number, req: MessageInitShape<typeof StreamBatchesRequestSchema>, want: Set<number>) => {
    const controller = new AbortController();
    let timer = setTimeout(() => controller.abort(), stallMs);
    try {
      for await (const { batch } of workers[w].streamBatches(req, { signal: controller.signal })) {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), stallMs);
        if (batch && batch.index >= next && !received.has(batch.index)) received.set(batch.index, batch);
        if (batch) want.delete(batch.index);
        wake();
      }
      if (want.size) throw new Error(`stream ended with ${want.size} batch(es) missing`);
    } catch (error) {
      live.delete(w);
      const lost = [...want].filter((b) => !received.has(b) && b >= next);
      options.onWorkerLost?.(workers[w].address, controller.signal.aborted ? `silent for ${stallMs} ms` : (error as Error).message, lost);
      const others = [...live];
      if (lost.length && others.length === 0) fatal = new Error(`every augment worker failed; last: ${workers[w].address}: ${(error as Error).message}`);
      // Spread the lost batches over the remaining workers, each request naming its batches.
      others.forEach((o, k) => {
        const mine = lost.filter((_, j) => j % others.length === k);
        if (!mine.length) return;
        void pull(o, { ...request, shardIndex: 0, shardCount: 1, batchIndices: mine }, new Set(mine));
      });
      wake();
    } finally {
      clearTimeout(timer);
    }
  };
  let next = 0;
  workers.forEach((_, i) => void pull(i, { ...request, shardIndex: i, shardCount: workers.length, batchIndices: [] }, new Set(Array.from({ length: total }, (_, b) => b).filter((b) => b % workers.length === i))));

  for (; next < total; next++) {
    while (!received.has(next)) {
      if (fatal) throw fatal;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const batch = received.get(next)!;
    received.delete(next);
    yield batch;
  }
}

/**
 * Clients for the augment workers named by `target`: a comma-separated list of host:port, or
 * `dns:///name:port` for every address the name resolves to (a Kubernetes headless Service).
 */
export async function augmentWorkers(target: string, env: Record<string, string | undefined> = process.env): Promise<AugmentClient[]> {
  let addresses: string[];
  const dns = /^dns:\/\/\/(.+):(\d+)$/.exec(target);
  if (dns) {
    const found = await lookup(dns[1], { all: true });
    addresses = [...new Set(found.map((a) => (a.family === 6 ? `[${a.address}]:${dns[2]}` : `${a.address}:${dns[2]}`)))];
  } else addresses = target.split(',').map((a) => a.trim()).filter(Boolean);
  if (addresses.length === 0) throw new RangeError(`augment workers "${target}": no addresses; give host:port[,host:port…] or dns:///name:port`);
  return addresses.map((a) => createClient(AugmentService, a, env));
}
