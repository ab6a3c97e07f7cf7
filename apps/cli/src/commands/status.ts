// `paddock status RUN`: each stage's state for a run, from the records the stage handlers keep in
// the run folder (<runs>/<run>/stages/<stage>.json): pending, running, retrying, done or failed.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runDirOf } from '@paddock/contracts';
import { StageLedger, type StageRecord } from '@paddock/events';
import { SERVE_ENV } from './serve.ts';

export const PIPELINE_STAGES = ['ingestion', 'training', 'evaluation', 'submission'] as const;

export function runStatus(runsDir: string, runId: string): (Omit<StageRecord, 'output' | 'state'> & { state: StageRecord['state'] | 'pending' })[] {
  const ledger = new StageLedger(runDirOf(runsDir, runId));
  return PIPELINE_STAGES.map((stage) => {
    const r = ledger.get(stage);
    if (!r) return { stage, state: 'pending' as const, attempts: 0 };
    const { output: _output, ...rest } = r;
    return rest;
  });
}

export function register(program: Command): void {
  program
    .command('status')
    .description("show each pipeline stage's state for a run (pending, running, retrying, done, failed)")
    .argument('<run>', 'run id')
    .option('--runs <dir>', `runs root (env ${SERVE_ENV.runsDir}, default ./runs)`)
    .option('--json', 'one JSON object per stage')
    .action((runId: string, flags: { runs?: string; json?: boolean }) => {
      const runsDir = flags.runs ?? process.env[SERVE_ENV.runsDir] ?? 'runs';
      if (!existsSync(runDirOf(runsDir, runId))) throw Object.assign(new Error(`status: no run "${runId}" in ${resolve(runsDir)}; give a run id of a pipeline started with paddock trigger (and --runs / ${SERVE_ENV.runsDir} for its runs folder)`), { exitCode: 2 });
      const rows = runStatus(runsDir, runId);
      if (flags.json) {
        for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      for (const r of rows) process.stdout.write(`${r.stage.padEnd(11)} ${r.state.padEnd(9)} attempts ${r.attempts}${r.finishedAt ? `  ${r.finishedAt}` : ''}${r.reused ? `  reused ${r.artifact}` : ''}${r.reason ? `  ${r.reason.replace(/\s*\n\s*/g, ' ')}` : ''}\n`);
    });
}
