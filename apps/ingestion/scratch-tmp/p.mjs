import sharp from 'sharp';
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
const root = '/work/shared/datasets/rice-leaf';
const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter(d => d.isFile() && /\.jpe?g$/i.test(d.name)).map(d => d.parentPath + '/' + d.name);
console.log(files.length, 'threads', sharp.concurrency(), 'uv', process.env.UV_THREADPOOL_SIZE);
for (const mode of ['meta+raw', 'raw-autoorient', 'stats']) {
  const t0 = performance.now(); let i = 0;
  async function worker() { while (i < files.length) { const f = files[i++]; const buf = await readFile(f); createHash('sha256').update(buf).digest('hex');
    if (mode === 'meta+raw') { await sharp(buf).metadata(); await sharp(buf, { failOn: 'error' }).raw().toBuffer(); }
    else if (mode === 'raw-autoorient') { await sharp(buf, { failOn: 'error', autoOrient: true }).raw().toBuffer({ resolveWithObject: true }); }
    else { await sharp(buf, { failOn: 'error' }).stats(); } } }
  await Promise.all([0,1,2,3].map(worker));
  console.log(mode, (performance.now() - t0).toFixed(0), 'ms');
}
const noise = Buffer.alloc(200*150*3, 9);
const rot = await sharp(noise, { raw: { width: 200, height: 150, channels: 3 } }).jpeg().withMetadata({orientation: 6}).toBuffer();
console.log((await sharp(rot, { autoOrient: true }).raw().toBuffer({resolveWithObject: true})).info);
