// presize's WebAssembly path on worker threads. Decoding in WebAssembly is synchronous: on the
// main thread it would use one core, where the native decoders' async calls use libuv's pool. A
// few workers (each with its own pixels.wasm) take baseline JPEGs; anything they do not
// take comes back undefined for presize's native decoders on the main thread. The threads are
// started once, on first use, and do not keep the process alive while idle.
import { Worker } from 'node:worker_threads';
import type { PresizeSpec } from './resize-window.ts';

/** A file for a worker: its path (the worker reads it) or its bytes (copied over). */
export interface PresizeTask {
  id: number;
  input: string | Uint8Array;
  spec: PresizeSpec;
  pcts: readonly [number, number];
  maxPixels: number;
}

export interface PresizeReply {
  id: number;
  /** The presized pixels; undefined for a file the worker does not take. */
  data?: Uint8Array;
  /** A failure of the worker's own code (not of the file: those come back undefined). */
  error?: string;
}

interface Pending {
  resolve(data: Uint8Array | undefined): void;
  reject(error: Error): void;
}

class Thread {
  readonly worker = new Worker(new URL('./presize-thread.js', import.meta.url));
  readonly pending = new Map<number, Pending>();

  constructor(onExit: (thread: Thread) => void) {
    this.worker.unref();
    this.worker.on('message', ({ id, data, error }: PresizeReply) => {
      const task = this.pending.get(id)!;
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker.unref();
      if (error) task.reject(new Error(`presize thread: ${error}`));
      else task.resolve(data);
    });
    const fail = (error: Error) => {
      for (const task of this.pending.values()) task.reject(error);
      this.pending.clear();
      onExit(this);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`presize thread exited with code ${code}`)));
  }

  send(task: PresizeTask, pending: Pending): void {
    if (this.pending.size === 0) this.worker.ref(); // keep the process alive for the answer
    this.pending.set(task.id, pending);
    this.worker.postMessage(task);
  }
}

/** A set of presize worker threads; `presizeThreads(n)` gives the shared one. */
export class PresizeThreads {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  /** Files the threads presized, and files they handed back to the native decoders. */
  readonly counts = { taken: 0, declined: 0 };

  constructor(readonly size: number) {}

  /**
   * presizeBaseline (see baseline-presize.ts) on the least busy thread: the pixels, or undefined
   * when the file is not a baseline JPEG it takes (or cannot be read there).
   */
  run(input: string | Uint8Array, spec: PresizeSpec, pcts: readonly [number, number], maxPixels: number): Promise<Uint8Array | undefined> {
    while (this.threads.length < this.size) this.threads.push(new Thread((gone) => this.threads.splice(this.threads.indexOf(gone), 1)));
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const counted = (data: Uint8Array | undefined) => {
      this.counts[data ? 'taken' : 'declined']++;
      return data;
    };
    return new Promise<Uint8Array | undefined>((resolve, reject) => thread.send({ id: this.nextId++, input, spec, pcts, maxPixels }, { resolve, reject })).then(counted);
  }

  /** Stop the threads (they are started again on the next run). */
  async close(): Promise<void> {
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }
}

const shared = new Map<number, PresizeThreads>();

/** The process's presize threads of a given count, started on first use. */
export function presizeThreads(size: number): PresizeThreads {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`presize threads: a positive integer count, got ${size}`);
  let threads = shared.get(size);
  if (!threads) shared.set(size, (threads = new PresizeThreads(size)));
  return threads;
}
