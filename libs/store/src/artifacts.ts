// The artifact store's contract: a stage's outputs (a folder of files) stored under a content
// address — the hash of everything the stage read (dataset manifest hash, its recipe section,
// upstream artifact keys) — with a record of those inputs. A stage that finds its key already
// stored does no work: it points at the stored files.
import { createHash } from 'node:crypto';

/** What a stage's output depends on; `stage` keeps two stages with equal inputs apart. JSON only. */
export interface ArtifactInputs {
  stage: string;
  [input: string]: unknown;
}

export interface ArtifactFile {
  /** Path inside the artifact, with forward slashes. */
  name: string;
  size: number;
  sha256: string;
}

export interface ArtifactRecord {
  key: string;
  inputs: ArtifactInputs;
  files: ArtifactFile[];
  createdAt: string;
  /** What the producing stage announced (its result event, protobuf base64), re-announced on reuse. */
  result?: string;
}

export interface StoredArtifact {
  record: ArtifactRecord;
  /** A local folder holding the artifact's files (fetched first where the store is remote). */
  dir: string;
}

export interface ArtifactStore {
  has(key: string): Promise<boolean>;
  /** The artifact, its files available locally; undefined when the key is not stored. */
  get(key: string): Promise<StoredArtifact | undefined>;
  /**
   * Store the files of `dir` (a folder from stagingDir(), which the store takes over) under `key`.
   * A key stored already is kept as it is (equal inputs made equal outputs) and `dir` is dropped.
   */
  put(key: string, dir: string, info: { inputs: ArtifactInputs; result?: string }): Promise<StoredArtifact>;
  /** A fresh local folder for a stage to write its outputs into before put. */
  stagingDir(): string;
  /** Let go of what the store holds open (a connection of its own); optional. */
  close?(): Promise<void>;
}

/** The file inside every stored artifact folder that holds its record. */
export const ARTIFACT_RECORD = 'artifact.json';

const KEY = /^[0-9a-f]{64}$/;

export function checkArtifactKey(key: string): string {
  if (!KEY.test(key)) throw new RangeError(`artifact key "${key}" is not a sha256 hex digest`);
  return key;
}

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The content address of a stage's output: sha256 of its inputs in canonical JSON. */
export function artifactKey(inputs: ArtifactInputs): string {
  return createHash('sha256').update(canonicalJson(inputs)).digest('hex');
}
