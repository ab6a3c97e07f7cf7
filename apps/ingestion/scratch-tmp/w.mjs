import sharp from 'sharp';
import { readFile, readdir } from 'node:fs/promises';
const root = '/work/shared/datasets/rice-leaf';
const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter(d => d.isFile() && /\.jpe?g$/i.test(d.name)).map(d => d.parentPath + '/' + d.name);
const orient = {}; let warnOnly = 0;
for (const f of files) { const buf = await readFile(f);
  const m = await sharp(buf).metadata(); orient[m.orientation ?? 0] = (orient[m.orientation ?? 0] ?? 0) + 1;
  let e1 = null, e2 = null;
  try { await sharp(buf, { failOn: 'warning' }).raw().toBuffer() } catch (e) { e1 = e.message }
  try { await sharp(buf, { failOn: 'error' }).raw().toBuffer() } catch (e) { e2 = e.message }
  if (e1 || e2) console.log(f, e1, e2);
}
console.log(orient);
