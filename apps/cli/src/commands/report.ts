// `paddock report RUN`: the run folder as one self-contained HTML page (report.html by default).
import type { Command } from 'commander';
import { writeReportPage } from '@paddock/evaluation';

export function register(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML page for a run folder: recipe, audit, epochs, loss plot, confusion matrix, top losses, submission preview')
    .argument('<run>', 'a run folder written by paddock run (runs/<run-id>)')
    .option('--out <file>', 'where the page goes (default <run>/report.html)')
    .action(async (run: string, flags: { out?: string }) => {
      const page = await writeReportPage({ runDir: run, out: flags.out });
      process.stdout.write(`${JSON.stringify({ report: page.path, included: page.included, missing: page.missing })}\n`);
    });
}
