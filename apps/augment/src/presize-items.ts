// The presize stage over a list of files: decode + fastai Resize for each path (libs/vision), a few
// at a time, in input order. The caller has already audited the files, so a decode error here is a
// real failure and stops the stage, naming the file.
import type { Random } from '@paddock/tensor';
import { presize, sizeHW, type PresizeSpec } from '@paddock/vision';

export interface PresizeItemsOptions {
  /** Files decoded at once. sharp runs each on its own libvips threads; 2 suits a 2-core box. */
  concurrency?: number;
  /** Called after each item with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Presize every path to `spec.size` (uint8 HWC, all the same length). With a Random `position`
 * (train), item i's crop/pad position comes from `position.fork(i)`, so it depends on the
 * generator and the index only — not on concurrency or completion order.
 */
export async function presizeItems(paths: readonly string[], spec: PresizeSpec, position: 'centre' | Random, options: PresizeItemsOptions = {}): Promise<Uint8Array[]> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
  const [h, w] = sizeHW(spec.size);
  const out = new Array<Uint8Array>(paths.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < paths.length) {
      const i = next++;
      const path = paths[i];
      let data: Uint8Array;
      try {
        data = (await presize(path, spec, position === 'centre' ? 'centre' : position.fork(i))).data;
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
