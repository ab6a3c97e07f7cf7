// presize's WebAssembly worker threads: the same pixels as presizeBaseline on the main thread, the
// files they do not take handed back, and threads that can be stopped and started again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { presizeBaseline } from '../src/baseline-presize.ts';
import { PresizeThreads } from '../src/presize-threads.ts';
import { rgb, tmp } from './images.ts';

const photo = rgb(90, 70, (x, y) => [x * 2, y * 3, (x * y) & 255]);
const threads = new PresizeThreads(2);
afterAll(() => threads.close());

describe('presize threads', () => {
  it('presize baseline JPEGs to presizeBaseline’s pixels, from a path or from bytes', async () => {
    const bytes = await sharp(photo, { raw: { width: 90, height: 70, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const path = join(tmp, 'thread.jpg');
    writeFileSync(path, bytes);
    const spec = { size: 32, method: 'crop' } as const;
    const want = presizeBaseline(bytes, spec, [0.2, 0.6], Infinity)!;
    const results = await Promise.all([threads.run(path, spec, [0.2, 0.6], Infinity), threads.run(bytes, spec, [0.2, 0.6], Infinity), threads.run(path, spec, [0.5, 0.5], Infinity)]);
    expect(Buffer.from(results[0]!).equals(Buffer.from(want))).toBe(true);
    expect(Buffer.from(results[1]!).equals(Buffer.from(want))).toBe(true);
    expect(Buffer.from(results[2]!).equals(Buffer.from(want))).toBe(false); // another crop position
    expect(threads.counts.taken).toBe(3);
  });

  it('hand back what they do not take: a PNG, a file that is missing, a JPEG over the pixel limit', async () => {
    const png = join(tmp, 'thread.png');
    await sharp(photo, { raw: { width: 90, height: 70, channels: 3 } }).png().toFile(png);
    const jpeg = await sharp(photo, { raw: { width: 90, height: 70, channels: 3 } }).jpeg().toBuffer();
    const declined = threads.counts.declined;
    expect(await threads.run(png, { size: 16 }, [0.5, 0.5], Infinity)).toBeUndefined();
    expect(await threads.run(join(tmp, 'no such file.jpg'), { size: 16 }, [0.5, 0.5], Infinity)).toBeUndefined();
    expect(await threads.run(jpeg, { size: 16 }, [0.5, 0.5], 90 * 70 - 1)).toBeUndefined();
    expect(threads.counts.declined - declined).toBe(3);
  });

  it('lose only the thread that crashed, warn once, and start a new one on the next file', async () => {
    const own = new PresizeThreads(2);
    const bytes = await sharp(photo, { raw: { width: 90, height: 70, channels: 3 } }).jpeg().toBuffer();
    await Promise.all([own.run(bytes, { size: 16 }, [0.5, 0.5], Infinity), own.run(bytes, { size: 16 }, [0.5, 0.5], Infinity)]);
    const threads = (own as unknown as { threads: { worker: import('node:worker_threads').Worker }[] }).threads;
    expect(threads).toHaveLength(2);
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    const crashed = threads[0].worker;
    crashed.postMessage(null); // the worker's handler throws on it: an uncaught error ('error', then 'exit')
    await new Promise((resolve) => crashed.once('exit', resolve));
    expect((await warning).message).toMatch(/presize threads: .*native decoders/);
    expect(threads).toHaveLength(1);
    expect((await own.run(bytes, { size: 16 }, [0.5, 0.5], Infinity))?.length).toBe(16 * 16 * 3);
    expect(threads).toHaveLength(2);
    await own.close();
  });

  it('start again after close', async () => {
    await threads.close();
    const bytes = await sharp(photo, { raw: { width: 90, height: 70, channels: 3 } }).jpeg().toBuffer();
    expect((await threads.run(bytes, { size: 16 }, [0.5, 0.5], Infinity))?.length).toBe(16 * 16 * 3);
  });
});
