// A small async work pool: at most `limit` tasks in flight, results in input order, a progress
// callback after each. sharp decodes on libuv's threadpool (4 threads by default), so a few
// files in flight keep every core busy without holding many decoded images in memory at once.

export async function mapPool<T, R>(
  inputs: readonly T[],
  limit: number,
  work: (input: T, index: number) => Promise<R>,
  onDone?: (done: number, total: number) => void,
): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < inputs.length) {
      const i = next++;
      results[i] = await work(inputs[i], i);
      done++;
      onDone?.(done, inputs.length);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return results;
}
