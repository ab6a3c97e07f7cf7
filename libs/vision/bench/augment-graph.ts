// Benchmark (not a test): augmentation graph time per batch, default aug_transforms recipe, and
// images/s as a ratio to a reference measured in the same run: sharp resizing the same uint8
// images to the output size (the resampling work without the warp, lighting or normalisation).
// Usage: npx tsx bench/augment-graph.ts [batch=32] [in=192] [out=128] [threads=2] [device=cpu]
import sharp from 'sharp';
import { Random } from '@paddock/tensor';
import { BatchAugmenter, augTransforms, drawAugmentParams, validParams } from '../src/index.ts';

const [batch, inSize, outSize, threads] = [32, 192, 128, 2].map((d, i) => Number(process.argv[2 + i] ?? d));
const device = (process.argv[6] ?? 'cpu') as 'cpu' | 'cuda' | 'auto';
const r = new Random(0);
const images = Array.from({ length: batch }, () => Uint8Array.from({ length: inSize * inSize * 3 }, () => r.int(256)));
const input = { height: inSize, width: inSize };

sharp.concurrency(threads);
async function sharpReference(): Promise<number> {
  const once = () => Promise.all(images.map((img) => sharp(img, { raw: { width: inSize, height: inSize, channels: 3 } }).resize(outSize, outSize, { fit: 'fill', kernel: 'linear' }).raw().toBuffer()));
  await once();
  const t = performance.now();
  for (let i = 0; i < 10; i++) await once();
  return (10 * batch) / ((performance.now() - t) / 1000);
}
const reference = await sharpReference();
console.log(`reference: sharp resize ${inSize}² → ${outSize}², ${threads} threads: ${reference.toFixed(0)} images/s`);

async function time(label: string, spec: ReturnType<typeof augTransforms>, valid: boolean): Promise<void> {
  const t0 = performance.now();
  const aug = await BatchAugmenter.create(spec, { inputHeight: inSize, inputWidth: inSize }, device, { threads });
  const created = performance.now() - t0;
  const params = () => (valid ? validParams(batch, spec, input) : drawAugmentParams(spec, batch, r, input));
  await aug.run(images, params()); // warm-up (first run plans memory)
  const runs: number[] = [];
  const drawTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const d0 = performance.now();
    const p = params();
    const t = performance.now();
    drawTimes.push(t - d0);
    await aug.run(images, p);
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label}: ${aug.device}, ${threads} threads, ${batch}×${inSize}² → ${outSize}²: median ${runs[5].toFixed(1)} ms/batch = ${((batch * 1000) / runs[5]).toFixed(0)} images/s (${((batch * 1000) / runs[5] / reference).toFixed(2)}× sharp resize) (min ${runs[0].toFixed(1)}, max ${runs[9].toFixed(1)}); params draw ${(drawTimes.reduce((a, b) => a + b) / 10).toFixed(2)} ms; session ${created.toFixed(0)} ms`);
  await aug.release();
}

await time('train (minScale 0.75)', augTransforms({ size: outSize, minScale: 0.75 }), false);
await time('train (defaults)', augTransforms({ size: outSize }), false);
await time('valid (resize only)', augTransforms({ size: outSize }), true);
