// What each stage did for a run, kept in the run folder (<run>/stages/<stage>.json) next to the
// artifacts it describes: a redelivered or duplicated event finds "done" and re-announces the
// stored result instead of redoing the work. A lock file with a heartbeat keeps two replicas
// from working on the same (run, stage) at once; a lock not refreshed for staleMs (15 s,
// below JetStream's 30 s ack wait) belonged to a crash, so the redelivery takes it over.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type StageState = 'running' | 'retrying' | 'done' | 'failed';

export interface StageRecord {
  stage: string;
  state: StageState;
  attempts: number;
  reason?: string;
  startedAt?: string;
  finishedAt?: string;
  /** The result event (protobuf binary, base64), re-published on a redelivery. */
  output?: string;
  /** Content address of the stage's outputs in the artifact store. */
  artifact?: string;
  /** The outputs came from an earlier run with the same inputs: no work was done. */
  reused?: boolean;
}

export class StageLedger {
  private readonly dir: string;
  constructor(
    readonly runDir: string,
    readonly staleMs = 15_000,
  ) {
    this.dir = join(runDir, 'stages');
  }

  get(stage: string): StageRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${stage}.json`), 'utf8')) as StageRecord;
    } catch {
      return undefined;
    }
  }

  all(): StageRecord[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    return names.map((n) => this.get(n.slice(0, -5))).filter((r): r is StageRecord => Boolean(r));
  }

  put(record: StageRecord): void {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, `${record.stage}.json`);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, path);
  }

  /** Take the (run, stage) lock; false while another live worker holds it. Returns a release function. */
  claim(stage: string): (() => void) | false {
    mkdirSync(this.dir, { recursive: true });
    const lock = join(this.dir, `${stage}.lock`);
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    } catch {
      let age = Infinity;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {}
      if (age < this.staleMs) return false;
      writeFileSync(lock, `${process.pid}\n`);
    }
    const beat = setInterval(() => {
      const now = new Date();
      try {
        utimesSync(lock, now, now);
      } catch {}
    }, Math.max(250, this.staleMs / 4));
    return () => {
      clearInterval(beat);
      rmSync(lock, { force: true });
    };
  }
}
