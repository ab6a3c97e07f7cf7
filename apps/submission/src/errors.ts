// The one error type of the submission stage. The CLI maps it to exit code 2 (bad input, as
// opposed to a crash), and every message names the file and row so the fix is obvious.

export interface SubmissionErrorWhere {
  /** The CSV being read or written. */
  file?: string;
  /** 1-based data row (the header is not a row). */
  row?: number;
  /** 1-based physical line in the file, where a parser reported one. */
  line?: number;
}

export class SubmissionError extends Error {
  readonly exitCode = 2;
  override readonly name = 'SubmissionError';
  readonly file: string | undefined;
  readonly row: number | undefined;
  readonly line: number | undefined;

  constructor(message: string, where: SubmissionErrorWhere = {}) {
    super(message);
    this.file = where.file;
    this.row = where.row;
    this.line = where.line;
  }
}
