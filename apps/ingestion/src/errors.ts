// DatasetError: input that ingestion cannot work with at all (no folder, no train_images, a
// sample that names missing files, a malformed CSV). Thrown before any per-file work, so a bad
// path fails in milliseconds; the CLI exits with exitCode and prints the message.
import type { Audit } from '@paddock/contracts';

export class DatasetError extends Error {
  readonly exitCode = 2;

  /**
   * @param path the file or folder at fault
   * @param fix what the user should do, in one sentence
   * @param audit what the scan found, when the error comes after scanning (every file bad)
   */
  constructor(
    message: string,
    readonly path: string,
    readonly fix: string,
    readonly audit?: Audit,
  ) {
    super(`${message.includes(path) ? message : `${path}: ${message}`}\nfix: ${fix}`);
    this.name = 'DatasetError';
  }
}
