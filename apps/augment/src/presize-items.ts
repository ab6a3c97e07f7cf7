// The presize stage over a list of files: decode + fastai Resize for each path (libs/vision), a few
// at a time, in input order, through an optional on-disk cache. Baseline JPEGs go to
// vision's WebAssembly threads; the rest, and whatever those do not take, to presize's native
// decoders here. The caller has already audited the files, so a decode error here is a real
// failure and stops the stage, naming the file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Random } from '@paddock/tensor';
import { DEFAULT_MAX_PIXELS, positionPcts, presize, presizeThreads, sizeHW, type PresizeSpec } from '@paddock/vision';
import { PresizeCache } from './presize-cache.ts';

export interface PresizeItemsOptions {
  /** WebAssembly decoding threads (default: the cores, at most 4). */
  threads?: number;
  /** Files in flight (default four a thread: with fewer, a thread waits on the message round trip
   *  between files). */
  concurrency?: number;
  /** Called after each item with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** A presize cache, or its folder; entries are keyed by (file content, spec, position drawn). */
  cache?: PresizeCache | string;
  /** Decompression-bomb guard: refuse images over this many pixels (default: PIL's limit). */
  maxPixels?: number;
}

/**
 * Presize every path to `spec.size` (uint8 HWC, all the same length). With a Random `position`
 * (train), item i's crop/pad position comes from `position.fork(i)`, so it depends on the
 * generator and the index only — not on concurrency, completion order or the cache.
 */
export async function presizeItems(paths: readonly string[], spec: PresizeSpec, position: 'centre' | Random, options: PresizeItemsOptions = {}): Promise<Uint8Array[]> {
  const threads = presizeThreads(Math.max(1, Math.floor(options.threads ?? Math.min(4, availableParallelism()))));
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4 * threads.size));
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const cache = typeof options.cache === 'string' ? new PresizeCache(options.cache) : options.cache;
  const [h, w] = sizeHW(spec.size);
  const out = new Array<Uint8Array>(paths.length);
  let next = 0;
  let done = 0;
  let failed = false;
  // A thread's pixels, or presize's here for a file the threads do not take.
  const decode = async (input: string | Uint8Array, pcts: [number, number]) => (await threads.run(input, spec, pcts, maxPixels)) ?? (await presize(input, spec, pcts, { maxPixels })).data;
  const one = async (i: number): Promise<Uint8Array> => {
    const pcts = positionPcts(spec, position === 'centre' ? 'centre' : position.fork(i));
    if (!cache) return decode(paths[i], pcts);
    const bytes = readFileSync(paths[i]); // sync, as @paddock/vision reads files (see imageBytes)
    const key = cache.key(createHash('sha256').update(bytes).digest('hex'), spec, pcts);
    const hit = await cache.get(key, h * w * 3);
    if (hit) return hit;
    const data = await decode(bytes, pcts);
    await cache.put(key, data);
    return data;
  };
  const worker = async () => {
    while (!failed && next < paths.length) {
      const i = next++;
      const path = paths[i];
      let data: Uint8Array;
      try {
        data = await one(i);
      } catch (error) {
        failed = true; // the other workers stop taking new items
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new Error(`presize: cannot decode ${path} (${reason}); re-run ingestion to audit the dataset, or remove the file`, { cause: error });
      }
      if (data.length !== h * w * 3) {
        failed = true;
        throw new Error(`presize: ${path} came out ${data.length} bytes, expected ${h}×${w}×3`);
      }
      out[i] = data;
      options.onProgress?.(++done, paths.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}
