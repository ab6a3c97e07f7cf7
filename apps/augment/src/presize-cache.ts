// The presize cache: presized pixels on disk, keyed by (content hash of the file, presize spec,
// position draw), so a second run — or an epoch that draws the same position — skips decoding.
// Entries are raw uint8 HWC files written to a temporary name and renamed into place, so two
// processes filling the same cache at once never see, or leave, half an entry.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '@paddock/store';
import { sizeHW, type PresizeSpec } from '@paddock/vision';

// Bump when decoding or resizing changes what presize outputs: old entries are then never read.
const FORMAT_VERSION = 2; // 2: embedded ICC profiles ignored, large JPEGs shrunk on load

/** $PADDOCK_PRESIZE_CACHE, else $XDG_CACHE_HOME/paddock/presize, else ~/.cache/paddock/presize. */
export function defaultPresizeCacheDir(): string {
  if (process.env.PADDOCK_PRESIZE_CACHE) return process.env.PADDOCK_PRESIZE_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'paddock', 'presize');
}

export class PresizeCache {
  hits = 0;
  misses = 0;

  constructor(readonly dir: string = defaultPresizeCacheDir()) {}

  /** The entry name for a file's bytes (their SHA-256), a spec and the position pcts drawn. */
  key(contentSha256: string, spec: PresizeSpec, pcts: readonly [number, number]): string {
    const [h, w] = sizeHW(spec.size);
    const method = spec.method ?? 'crop';
    const identity = {
      v: FORMAT_VERSION,
      content: contentSha256,
      size: [h, w],
      method,
      padMode: method === 'pad' ? (spec.padMode ?? 'reflection') : undefined,
      // squish draws no position; crop and pad depend on it.
      pcts: method === 'squish' ? undefined : pcts,
    };
    return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  }

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.rgb`);
  }

  /** The cached pixels, or undefined (missing, or not `bytes` long: a foreign or damaged file). */
  async get(key: string, bytes: number): Promise<Uint8Array | undefined> {
    try {
      const b = await readFile(this.path(key));
      if (b.byteLength === bytes) {
        this.hits++;
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.misses++;
    return undefined;
  }

  /** Store an entry atomically (temp file in the same folder, then rename; last writer wins, and
   *  every writer writes the same bytes). */
  async put(key: string, data: Uint8Array): Promise<void> {
    await writeFileAtomicAsync(this.path(key), data);
  }
}
