// @paddock/submission: the competition file — image_id,label rows in sample-submission order,
// validated against the sample and the vocab and written atomically; plus scoring against test
// labels when a user holds them. The stage's service and event handler wrap these functions.
export * from './errors.ts';
export * from './submission.ts';
export * from './score.ts';
export { readCsvTable, readIdColumn, type CsvRow } from './csv.ts';
export { submit, type SubmitSpec, type Submitted } from './submit.ts';
