// The artifact store on the local filesystem (the default; in cluster mode also the local cache of
// the JetStream object store): <root>/<key>/ holds the files and artifact.json. A put renames a
// finished staging folder into place, so a reader never sees half an artifact and two writers of
// the same key leave one.
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ARTIFACT_RECORD, checkArtifactKey, type ArtifactFile, type ArtifactInputs, type ArtifactRecord, type ArtifactStore, type StoredArtifact } from './artifacts.ts';
import { sha256, writeJsonAtomic } from './atomic.ts';

/** Every file under `dir` (but a record), names relative with forward slashes, sorted. */
export function filesIn(dir: string, prefix = ''): ArtifactFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e): ArtifactFile[] => {
      const name = prefix + e.name;
      if (e.isDirectory()) return filesIn(join(dir, e.name), `${name}/`);
      if (name === ARTIFACT_RECORD) return [];
      const data = readFileSync(join(dir, e.name));
      return [{ name, size: data.length, sha256: sha256(data) }];
    });
}

export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  dirOf(key: string): string {
    return join(this.root, checkArtifactKey(key));
  }

  async has(key: string): Promise<boolean> {
    return existsSync(join(this.dirOf(key), ARTIFACT_RECORD));
  }

  async get(key: string): Promise<StoredArtifact | undefined> {
    const dir = this.dirOf(key);
    try {
      return { record: JSON.parse(readFileSync(join(dir, ARTIFACT_RECORD), 'utf8')) as ArtifactRecord, dir };
    } catch {
      return undefined;
    }
  }

  stagingDir(): string {
    const staging = join(this.root, '.staging');
    mkdirSync(staging, { recursive: true });
    return mkdtempSync(join(staging, `${process.pid}-`));
  }

  async put(key: string, dir: string, info: { inputs: ArtifactInputs; result?: string; createdAt?: string }): Promise<StoredArtifact> {
    const target = this.dirOf(key);
    const existing = await this.get(key);
    if (existing) {
      rmSync(dir, { recursive: true, force: true });
      return existing;
    }
    const record: ArtifactRecord = { key, inputs: info.inputs, files: filesIn(dir), createdAt: info.createdAt ?? new Date().toISOString(), result: info.result };
    writeJsonAtomic(join(dir, ARTIFACT_RECORD), record);
    try {
      renameSync(dir, target);
    } catch (error) {
      // Another writer put the same key first (rename onto a non-empty folder fails): keep theirs.
      const theirs = await this.get(key);
      rmSync(dir, { recursive: true, force: true });
      if (theirs) return theirs;
      throw error;
    }
    return { record, dir: target };
  }
}

/** Show an artifact's files in `intoDir` (a run folder): hard links where possible, else copies. */
export function linkArtifactFiles(artifact: StoredArtifact, intoDir: string): void {
  for (const f of artifact.record.files) {
    const to = join(intoDir, f.name);
    mkdirSync(dirname(to), { recursive: true });
    rmSync(to, { force: true });
    try {
      linkSync(join(artifact.dir, f.name), to);
    } catch {
      copyFileSync(join(artifact.dir, f.name), to);
    }
  }
}
