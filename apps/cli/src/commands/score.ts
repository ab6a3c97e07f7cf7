// `paddock score`: a submission against labels the user holds.
import type { Command } from 'commander';
import { scoreSubmission } from '@paddock/submission';

export function register(program: Command): void {
  program
    .command('score')
    .description('score a submission against a labels CSV (image_id,label) you hold')
    .requiredOption('--submission <file>', 'submission.csv')
    .requiredOption('--labels <file>', 'CSV with the true labels')
    .action((flags: { submission: string; labels: string }) => {
      const s = scoreSubmission(flags.submission, flags.labels);
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    });
}
