// Folder listing: every file under a folder, sorted by path in code-point order, hidden names
// (leading ".") skipped like fastai's get_image_files. Entries that look like files but cannot be
// read as one (a directory named x.jpg, a broken symlink, a FIFO) are returned separately so the
// audit can name them instead of dropping them.
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { compareCodepoints } from '@paddock/labels';
import { hasImageExtension } from './sniff.ts';

export interface NotAFile {
  /** Path relative to the listed folder, forward slashes. */
  readonly rel: string;
  readonly kind: 'not-a-file' | 'unreadable';
  readonly reason: string;
}

export interface Listing {
  /** Regular files (or symlinks to one), relative paths with forward slashes, sorted. */
  readonly files: string[];
  readonly notFiles: NotAFile[];
}

/**
 * Paths are compared after Unicode NFC normalisation, so a folder copied from macOS (which
 * stores names decomposed) sorts, and therefore splits, the same as on Linux. The paths returned
 * are the names as stored, which is what reading the file needs.
 */
export function sortPaths(paths: string[]): string[] {
  const keyed = paths.map((p) => [p.normalize('NFC'), p] as const);
  keyed.sort((a, b) => compareCodepoints(a[0], b[0]) || compareCodepoints(a[1], b[1]));
  return keyed.map(([, p]) => p);
}

export async function listTree(root: string): Promise<Listing> {
  const files: string[] = [];
  const notFiles: NotAFile[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (prefix === '') throw e;
      notFiles.push({ rel: prefix.slice(0, -1), kind: 'unreadable', reason: `cannot list this folder: ${(e as Error).message}` });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const rel = prefix + entry.name;
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (hasImageExtension(entry.name)) {
          notFiles.push({ rel, kind: 'not-a-file', reason: 'a directory named like an image file; its contents are listed as a folder of their own' });
        }
        await walk(abs, rel + '/');
      } else if (entry.isFile()) {
        files.push(rel);
      } else if (entry.isSymbolicLink()) {
        // Links to files are followed; links to folders are not (os.walk's default, and no cycles).
        try {
          const target = await stat(abs);
          if (target.isFile()) files.push(rel);
          else if (target.isDirectory()) notFiles.push({ rel, kind: 'not-a-file', reason: 'a symbolic link to a directory; not followed' });
          else notFiles.push({ rel, kind: 'not-a-file', reason: 'a symbolic link to something that is not a regular file' });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const reason = code === 'ENOENT' ? 'a broken symbolic link (its target does not exist)' : `a symbolic link that cannot be followed (${code})`;
          notFiles.push({ rel, kind: 'not-a-file', reason });
        }
      } else {
        notFiles.push({ rel, kind: 'not-a-file', reason: 'not a regular file (a FIFO, socket or device)' });
      }
    }
  }
  await walk(root, '');
  const order = new Map(sortPaths(notFiles.map((n) => n.rel)).map((p, i) => [p, i]));
  notFiles.sort((a, b) => order.get(a.rel)! - order.get(b.rel)!);
  return { files: sortPaths(files), notFiles };
}
