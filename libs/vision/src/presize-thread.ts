// The body of a presize worker thread (see presize-threads.ts): presizeBaseline on each file it is
// sent, the result's buffer handed back without a copy, undefined for a file it does not take.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { presizeBaseline } from './baseline-presize.ts';
import type { PresizeTask, PresizeReply } from './presize-threads.ts';

const port = parentPort!;
port.on('message', ({ id, input, spec, pcts, maxPixels }: PresizeTask) => {
  let reply: PresizeReply;
  try {
    // A file that cannot be read is the main thread's to report (it reads it again, and names it).
    const bytes = typeof input === 'string' ? readOrUndefined(input) : input;
    reply = { id, data: bytes && presizeBaseline(bytes, spec, pcts, maxPixels) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply, reply.data ? [reply.data.buffer as ArrayBuffer] : []); // slice() gave it its own buffer
});

function readOrUndefined(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
