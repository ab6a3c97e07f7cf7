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

/** Called with a file's pixels, or undefined for the native decoders to take it. */
type Answer = (data: Uint8Array | undefined) => void;

/**
 * One worker. A failure of its code, or of the thread itself, hands the files concerned back to
 * the native decoders (the run goes on) and is reported once as a process warning, not silently.
 */
class Thread {
  readonly worker = new Worker(new URL('./presize-thread.js', import.meta.url));
  readonly pending = new Map<number, Answer>();
  private gone = false;

  constructor(onGone: (thread: Thread) => void, onFailure: (message: string) => void) {
    this.worker.unref();
    this.worker.on('message', ({ id, data, error }: PresizeReply) => {
      const answer = this.pending.get(id)!;
      this.settled(id);
      if (error) onFailure(error);
      answer(error ? undefined : data);
    });
    // A worker that fails emits 'error' and then 'exit': the thread goes once.
    const end = (why: string) => {
      if (this.gone) return;
      this.gone = true;
      onFailure(why);
      for (const answer of this.pending.values()) answer(undefined);
      this.pending.clear();
      onGone(this);
    };
    this.worker.on('error', (error) => end(error.stack ?? error.message));
    this.worker.on('exit', (code) => end(`the thread exited with code ${code}`));
  }

  send(task: PresizeTask, answer: Answer): void {
    if (this.pending.size === 0) this.worker.ref(); // keep the process alive for the answer
    this.pending.set(task.id, answer);
    try {
      this.worker.postMessage(task);
    } catch (error) {
      this.settled(task.id);
      throw error;
    }
  }

  /** Stop without the exit counting as a failure. */
  terminate(): Promise<number> {
    this.gone = true;
    return this.worker.terminate();
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

/** A set of presize worker threads; `presizeThreads(n)` gives the shared one. */
export class PresizeThreads {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  /** Files the threads presized, and files they handed back to the native decoders. */
  readonly counts = { taken: 0, declined: 0 };
  private warned = false;

  constructor(readonly size: number) {}

  /**
   * presizeBaseline (see baseline-presize.ts) on the least busy thread: the pixels, or undefined
   * when the file is not a baseline JPEG it takes (or cannot be read there).
   */
  run(input: string | Uint8Array, spec: PresizeSpec, pcts: readonly [number, number], maxPixels: number): Promise<Uint8Array | undefined> {
    while (this.threads.length < this.size) this.threads.push(new Thread((gone) => this.remove(gone), (why) => this.warn(why)));
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return new Promise<Uint8Array | undefined>((resolve) =>
      thread.send({ id: this.nextId++, input, spec, pcts, maxPixels }, (data) => {
        this.counts[data ? 'taken' : 'declined']++;
        resolve(data);
      }),
    );
  }

  /** Stop the threads (they are started again on the next run). */
  async close(): Promise<void> {
    await Promise.all(this.threads.splice(0).map((t) => t.terminate()));
  }

  private remove(thread: Thread): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
  }

  private warn(why: string): void {
    if (this.warned) return;
    this.warned = true;
    process.emitWarning(`presize threads: ${why.split('\n')[0]}; the files concerned went to the native decoders`, 'PresizeThreadWarning');
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
