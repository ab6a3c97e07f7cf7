// Paths that arrive in events and requests are untrusted: a dataset folder must lie inside one of
// the configured roots (PADDOCK_DATA_ROOTS), and a run id names exactly one folder under the runs
// root — no `..`, no absolute paths, no separators.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export const PATH_ENV = {
  /** Colon-separated folders a dataset may live in (default: the working directory). */
  dataRoots: 'PADDOCK_DATA_ROOTS',
  /** The artifact root: run folders <runs>/<run id>/ (default: ./runs). */
  runsDir: 'PADDOCK_RUNS_DIR',
} as const;

export class PathConfinementError extends Error {
  readonly exitCode = 2;
}

export function dataRootsFrom(env: Record<string, string | undefined> = process.env): string[] {
  const raw = env[PATH_ENV.dataRoots];
  return (raw ? raw.split(':').filter(Boolean) : [process.cwd()]).map((r) => resolve(r));
}

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/** The absolute dataset path, or PathConfinementError when it leaves every root (symlinks resolved). */
export function confineDataDir(dataDir: string, roots: readonly string[]): string {
  if (dataDir.split(/[\\/]/).includes('..')) throw new PathConfinementError(`data_dir "${dataDir}" contains "..", which is not accepted in requests; give the folder's path inside ${roots.join(' or ')}`);
  const target = real(resolve(dataDir));
  for (const root of roots) {
    const rel = relative(real(root), target);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..'))) return target;
  }
  throw new PathConfinementError(`data_dir "${dataDir}" is outside the dataset roots (${roots.join(', ')}); move the data there or add its folder to ${PATH_ENV.dataRoots}`);
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** <runsDir>/<runId>, after checking the id names one plain folder. */
export function runDirOf(runsDir: string, runId: string): string {
  if (!RUN_ID.test(runId) || runId.includes('..')) throw new PathConfinementError(`run id "${runId}" must be 1-128 letters, digits, '.', '_' or '-' (no "..", no "/")`);
  return resolve(runsDir, runId);
}
