// ingest(spec): a Kaggle-layout folder → DatasetManifest (items, vocab, split, test order, audit).
// A pure library function: it reads the folder, never writes to it, and returns the manifest;
// the gRPC service, the event handler and the CLI all call it. writeManifest stores the result.
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  AuditSchema,
  Audit_FormatMismatchSchema,
  Audit_ProblemSchema,
  DatasetManifestSchema,
  ItemSchema,
  Split,
  type Audit_FormatMismatch,
  type Audit_Problem,
  type DatasetManifest,
  type Item,
} from '@paddock/contracts';
import { LabelSourceError, Vocab, csvLabels, parentLabel, readCsv } from '@paddock/labels';
import { byPath, duplicateGroups, labelStats, nearDuplicateGroups } from './audit.ts';
import { DatasetError } from './errors.ts';
import { inspectFile, quotesDecoder, type Inspection, type ProblemKind } from './inspect.ts';
import { mapPool } from './pool.ts';
import { listTree, type Listing } from './scan.ts';
import { randomSplit } from './split.ts';
import { IMAGE_EXTENSIONS, extensionOf, formatOfExtension, hasImageExtension } from './sniff.ts';

export interface IngestSpec {
  /** The dataset folder (train_images/<label>/*, optional train.csv, test_images/, sample_submission.csv). */
  dataDir: string;
  /** Fraction of labelled items held out for validation, in [0, 1). Default 0.2 (fastai). */
  validPct?: number;
  /** Seed of the split permutation. Default 42 (fastai). */
  seed?: number;
  /** Largest accepted image in pixels. Default 178956970, PIL's MAX_IMAGE_PIXELS. */
  maxPixels?: number;
  /**
   * Near-duplicates: images whose 64-bit dHash differs in at most this many bits are grouped
   * and reported (audit problems of kind "near-duplicate", kept). Default 4; negative: off.
   */
  nearDuplicateDistance?: number;
  /**
   * Keep each near-duplicate group on one side of the split, like exact duplicates. Default false:
   * dHash links chain transitively, and on small or uniform images (Fashion-MNIST at 28 px) one
   * group swallowed 2,050 of 3,500 files and skewed the split's class balance badly.
   */
  keepNearDuplicatesTogether?: boolean;
  /** Called after each file is inspected (and once with done = 0 before the first). */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_VALID_PCT = 0.2;
export const DEFAULT_SEED = 42;
export const DEFAULT_MAX_PIXELS = 178956970;
export const DEFAULT_NEAR_DUPLICATE_DISTANCE = 4;
// Files decoded at once; see pool.ts.
const CONCURRENCY = 4;
// How many offending names an error message lists before "and N more".
const LISTED = 5;

interface Candidate {
  /** Relative to the data dir, forward slashes. */
  path: string;
  label: string;
  imageId: string;
  /** Set when the listing already knows the entry is not a readable file. */
  known?: { kind: ProblemKind; reason: string };
}

export async function ingest(spec: IngestSpec): Promise<DatasetManifest> {
  const validPct = spec.validPct ?? DEFAULT_VALID_PCT;
  const seed = spec.seed ?? DEFAULT_SEED;
  const maxPixels = spec.maxPixels ?? DEFAULT_MAX_PIXELS;
  const dataDir = resolve(spec.dataDir);
  checkSpec(dataDir, validPct, seed, maxPixels);

  // --- Everything that can make the whole dataset unusable is checked before any file is read.
  checkDataDir(dataDir);
  const trainDir = join(dataDir, 'train_images');
  const testDir = join(dataDir, 'test_images');
  const trainCsvPath = join(dataDir, 'train.csv');
  const samplePath = join(dataDir, 'sample_submission.csv');
  const csv = existsSync(trainCsvPath) ? fromCsv(() => csvLabels(trainCsvPath)) : undefined;
  const sample = existsSync(samplePath) ? readSample(samplePath) : undefined;
  const hasTest = existsSync(testDir);
  if (hasTest && !statSync(testDir).isDirectory()) {
    throw new DatasetError(`${testDir} is not a directory`, testDir, 'remove it or make test_images a folder of test images');
  }
  const train = await listFolder(trainDir);
  const test: Listing = hasTest ? await listFolder(testDir) : { files: [], notFiles: [] };

  const problems: Audit_Problem[] = [];
  const problem = (path: string, kind: string, reason: string, kept = false) => problems.push(create(Audit_ProblemSchema, { path, kind, reason, kept }));

  const trainCandidates: Candidate[] = [];
  for (const rel of train.files) {
    const path = `train_images/${rel}`;
    if (!hasImageExtension(rel)) problem(path, 'not-an-image-extension', notImageReason(rel));
    else if (parentLabel(rel) === '') problem(path, 'unlabelled', 'directly in train_images/, not in a label folder; move it to train_images/<label>/');
    else trainCandidates.push({ path, label: parentLabel(rel), imageId: '' });
  }
  for (const n of train.notFiles) problem(`train_images/${n.rel}`, n.kind, n.reason);
  if (trainCandidates.length === 0) {
    throw new DatasetError(
      `no labelled images in ${trainDir} (${train.files.length} files found, none with an image extension inside a label folder)`,
      trainDir,
      `put the images in train_images/<label>/ with one of the extensions ${IMAGE_EXTENSIONS.join(' ')}`,
    );
  }

  const testCandidates = sample ? sampleCandidates(sample, test, samplePath, problem) : sortedCandidates(test, problem);

  // --- Per-file work: read, hash, sniff, decode.
  const candidates = [...trainCandidates, ...testCandidates];
  spec.onProgress?.(0, candidates.length);
  const inspections = await mapPool(
    candidates,
    CONCURRENCY,
    (c): Promise<Inspection> =>
      c.known ? Promise.resolve({ ok: false, sha256: '', ...c.known }) : inspectFile(join(dataDir, c.path), maxPixels),
    spec.onProgress,
  );
  // Decoder messages are only trustworthy with one decode at a time (see inspectFile); failures
  // are few, so they are inspected again, one by one.
  for (let i = 0; i < inspections.length; i++) {
    if (quotesDecoder(inspections[i])) inspections[i] = await inspectFile(join(dataDir, candidates[i].path), maxPixels);
  }

  const formatMismatches: Audit_FormatMismatch[] = [];
  const trainItems: Item[] = [];
  const dhashOf = new Map<string, string | undefined>();
  const testItems: Item[] = [];
  const csvSeen = new Set<string>();
  candidates.forEach((c, i) => {
    const r = inspections[i];
    const isTest = i >= trainCandidates.length;
    if (!r.ok) {
      if (!isTest) return problem(c.path, r.kind, r.reason);
      // Kept so that the submission still has a row for it: width/height 0 and format "" mark
      // an item nobody could decode; the submission stage predicts the most frequent class.
      problem(c.path, r.kind, `${r.reason}; kept in the test set with no size so the submission still has its row`, true);
      testItems.push(create(ItemSchema, { path: c.path, split: Split.TEST, labelId: -1, sha256: r.sha256, imageId: c.imageId }));
      return;
    }
    if (!isTest && csv) {
      const rel = c.path.slice('train_images/'.length);
      const name = rel.slice(rel.lastIndexOf('/') + 1);
      const key = csv.has(rel) ? rel : name;
      const csvLabel = csv.get(key);
      if (csvLabel === undefined) {
        problem(c.path, 'not-in-csv', `train.csv has no row for it; kept with its folder label "${c.label}"`, true);
      } else {
        csvSeen.add(key);
        if (csvLabel !== c.label) {
          return problem(c.path, 'label-mismatch', `train.csv labels it "${csvLabel}" but it is in folder "${c.label}"; left out until they agree`);
        }
      }
    }
    dhashOf.set(c.path, r.dhash);
    if (r.warning) problem(c.path, 'decoder-warning', `decodes, but the decoder warns: ${r.warning}; kept (PIL reads it too) — check the picture`, true);
    const ext = extensionOf(c.path);
    if (formatOfExtension(ext) !== r.format) {
      formatMismatches.push(create(Audit_FormatMismatchSchema, { path: c.path, extension: ext, format: r.format }));
    }
    const item = create(ItemSchema, {
      path: c.path,
      label: c.label,
      split: isTest ? Split.TEST : Split.TRAIN,
      labelId: isTest ? -1 : 0,
      width: r.width,
      height: r.height,
      channels: r.channels,
      format: r.format,
      sha256: r.sha256,
      imageId: c.imageId,
    });
    (isTest ? testItems : trainItems).push(item);
  });
  if (csv) {
    const unmatched = [...csv.keys()].filter((k) => !csvSeen.has(k));
    if (unmatched.length > 0) {
      problem('train.csv', 'missing-file', `${unmatched.length} image_id(s) in train.csv match no usable image in train_images: ${listed(unmatched)}`);
    }
  }
  problems.sort(byPath);
  formatMismatches.sort(byPath);

  if (trainItems.length === 0) {
    const audit = create(AuditSchema, { problems, formatMismatches, testCount: testItems.length });
    throw new DatasetError(
      `none of the ${trainCandidates.length} labelled images in ${trainDir} can be used (${kindCounts(problems)}); see the audit for each file`,
      trainDir,
      'replace or remove the files the audit lists',
      audit,
    );
  }

  // --- Duplicates (over train and test: a test image equal to a train image is worth knowing).
  const usable = [...trainItems, ...testItems].filter((it) => it.format !== '');
  usable.sort((a, b) => byPath(a, b));
  const { groups, groupOf } = duplicateGroups(usable);
  for (const it of [...trainItems, ...testItems]) it.duplicateGroup = groupOf.get(it.path) ?? 0;
  const nearDistance = spec.nearDuplicateDistance ?? DEFAULT_NEAR_DUPLICATE_DISTANCE;
  const near = nearDistance >= 0 ? nearDuplicateGroups(usable.map((it) => ({ path: it.path, sha256: it.sha256, dhash: dhashOf.get(it.path) })), nearDistance) : { groups: [], groupOf: new Map<string, number>() };
  const together = spec.keepNearDuplicatesTogether ?? false;
  for (const g of near.groups) {
    for (const p of g.paths) {
      const others = g.paths.filter((q) => q !== p);
      problem(
        p,
        'near-duplicate',
        `near-duplicate group ${g.id} (${g.paths.length} files, dHash distance ≤ ${g.distance} of 64 bits): looks like ${listed(others)}; kept${together ? ', on the same side of the split as the rest of its group' : ''}`,
        true,
      );
    }
  }
  problems.sort(byPath);

  // --- Vocab and split.
  const vocab = Vocab.fromLabels(trainItems.map((it) => it.label));
  for (const it of trainItems) it.labelId = vocab.encode(it.label);
  const isValid = randomSplit(
    trainItems.map((it) => {
      const nearGroup = together ? near.groupOf.get(it.path) : undefined;
      // An exact group lies wholly inside any near group that touches it (equal bytes, distance 0).
      return nearGroup !== undefined ? `near:${nearGroup}` : it.duplicateGroup > 0 ? `group:${it.duplicateGroup}` : `item:${it.path}`;
    }),
    validPct,
    seed,
  );
  trainItems.forEach((it, i) => (it.split = isValid[i] ? Split.VALID : Split.TRAIN));
  const validCount = isValid.filter(Boolean).length;

  const audit = create(AuditSchema, {
    problems,
    formatMismatches,
    labels: labelStats(trainItems, vocab.names),
    duplicates: groups,
    trainCount: trainItems.length - validCount,
    validCount,
    testCount: testItems.length,
  });
  return create(DatasetManifestSchema, {
    dataDir,
    vocab: vocab.toJSON(),
    items: trainItems,
    testItems,
    splitSeed: seed,
    validPct,
    testOrder: sample ? 'sample' : 'sorted',
    audit,
  });
}

function checkSpec(dataDir: string, validPct: number, seed: number, maxPixels: number): void {
  if (!(validPct >= 0 && validPct < 1)) {
    throw new DatasetError(`valid_pct ${validPct} is outside [0, 1)`, dataDir, 'pass a fraction such as 0.2 for 20 % validation');
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new DatasetError(`seed ${seed} is not an unsigned 32-bit integer`, dataDir, 'pass a whole number between 0 and 4294967295, e.g. 42');
  }
  if (!Number.isInteger(maxPixels) || maxPixels <= 0) {
    throw new DatasetError(`max_pixels ${maxPixels} is not a positive integer`, dataDir, `leave it unset for ${DEFAULT_MAX_PIXELS} or pass a pixel count`);
  }
}

function checkDataDir(dataDir: string): void {
  const fix = 'pass the folder that holds train_images/<label>/ (and optionally train.csv, test_images/, sample_submission.csv)';
  if (!existsSync(dataDir)) throw new DatasetError(`data dir ${dataDir} does not exist`, dataDir, fix);
  if (!statSync(dataDir).isDirectory()) throw new DatasetError(`data dir ${dataDir} is not a directory`, dataDir, fix);
  const visible = readdirSync(dataDir).filter((n) => !n.startsWith('.'));
  if (visible.length === 0) throw new DatasetError(`data dir ${dataDir} is empty`, dataDir, fix);
  const trainDir = join(dataDir, 'train_images');
  if (!existsSync(trainDir)) {
    throw new DatasetError(`no train_images folder in ${dataDir} (found: ${listed(visible.sort())})`, trainDir, fix);
  }
  if (!statSync(trainDir).isDirectory()) throw new DatasetError(`${trainDir} is not a directory`, trainDir, fix);
}

async function listFolder(dir: string): Promise<Listing> {
  try {
    return await listTree(dir);
  } catch (e) {
    throw new DatasetError(`cannot list ${dir}: ${(e as Error).message}`, dir, 'make the folder readable by this user');
  }
}

/** Runs a CSV reader and turns its error into a DatasetError naming the file and line. */
function fromCsv<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof LabelSourceError)) throw e;
    const where = e.line === undefined ? 'the file' : `line ${e.line}`;
    throw new DatasetError(e.message, e.path, `correct ${where} of ${e.path} (or remove the file)`);
  }
}

interface SampleRow {
  imageId: string;
  line: number;
}

function readSample(samplePath: string): SampleRow[] {
  const rows = fromCsv(() => readCsv(samplePath, ['image_id']));
  const lineOf = new Map<string, number>();
  for (const { line, values } of rows) {
    const id = values.image_id;
    if (id === '') throw new DatasetError(`${samplePath}: line ${line}: empty image_id`, samplePath, `correct line ${line} of ${samplePath}`);
    const before = lineOf.get(id);
    if (before !== undefined) {
      throw new DatasetError(`${samplePath}: line ${line}: image_id "${id}" already listed on line ${before}`, samplePath, `remove the repeated row from ${samplePath}`);
    }
    lineOf.set(id, line);
  }
  return rows.map(({ line, values }) => ({ imageId: values.image_id, line }));
}

// Test items in sample_submission.csv order: every listed id must exist in test_images.
function sampleCandidates(sample: SampleRow[], test: Listing, samplePath: string, problem: (p: string, k: string, r: string) => void): Candidate[] {
  const present = new Map<string, { kind: ProblemKind; reason: string } | undefined>(test.files.map((f) => [f, undefined]));
  for (const n of test.notFiles) present.set(n.rel, { kind: n.kind, reason: n.reason });
  const missing = sample.filter((s) => !present.has(s.imageId));
  if (missing.length > 0) {
    throw new DatasetError(
      `${samplePath} lists ${missing.length} image_id(s) with no file in test_images/: ${listed(missing.map((m) => `${m.imageId} (line ${m.line})`))}`,
      samplePath,
      'put the missing images in test_images/ or use the sample_submission.csv that belongs to this dataset',
    );
  }
  const listedIds = new Set(sample.map((s) => s.imageId));
  for (const f of test.files) {
    if (listedIds.has(f)) continue;
    if (!hasImageExtension(f)) problem(`test_images/${f}`, 'not-an-image-extension', notImageReason(f));
    else problem(`test_images/${f}`, 'not-in-sample', 'not listed in sample_submission.csv, so the submission has no row for it; left out');
  }
  for (const n of test.notFiles) if (!listedIds.has(n.rel)) problem(`test_images/${n.rel}`, n.kind, n.reason);
  return sample.map((s) => ({ path: `test_images/${s.imageId}`, label: '', imageId: s.imageId, known: present.get(s.imageId) }));
}

// Without a sample: every image file of test_images, sorted (fastai's get_image_files(...).sorted()).
function sortedCandidates(test: Listing, problem: (p: string, k: string, r: string) => void): Candidate[] {
  const out: Candidate[] = [];
  for (const f of test.files) {
    if (hasImageExtension(f)) out.push({ path: `test_images/${f}`, label: '', imageId: f });
    else problem(`test_images/${f}`, 'not-an-image-extension', notImageReason(f));
  }
  for (const n of test.notFiles) problem(`test_images/${n.rel}`, n.kind, n.reason);
  return out;
}

function notImageReason(rel: string): string {
  const ext = extensionOf(rel);
  return `${ext === '' ? 'no extension' : `extension "${ext}"`} is not an image extension (${IMAGE_EXTENSIONS.join(' ')}); left out — rename it if it is an image`;
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown;
}

function kindCounts(problems: readonly Audit_Problem[]): string {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}
