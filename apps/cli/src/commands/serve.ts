// `paddock serve <stage>`: one stage as a long-running service — its gRPC server (with
// grpc.health.v1) and, given NATS, its event handler. `serve pipeline` runs every stage in one
// process. SIGTERM/SIGINT: health turns NOT_SERVING, handlers finish the event in hand, in-flight
// calls get --grace-ms to finish, then the process exits 0. Logs: one JSON object per line, stderr.
import { Argument, Option, type Command } from 'commander';
import { PATH_ENV, dataRootsFrom } from '@paddock/contracts';
import { JetStreamEventBus, MemoryEventBus, NATS_ENV, natsOptionsFrom, type EventBus, type Subscription } from '@paddock/events';
import { jsonLogger, startServer, type Logger, type Registration, type RunningServer } from '@paddock/rpc';
import { AugmentWorker, augmentService } from '@paddock/augment/service';
import { evaluationHandler, evaluationService } from '@paddock/evaluation/service';
import { ingestionHandler, ingestionService } from '@paddock/ingestion/service';
import { submissionHandler, submissionService } from '@paddock/submission/service';
import { trainingHandler, trainingService } from '@paddock/training/service';
import { number } from '../options.ts';

export const STAGES = ['ingestion', 'augment', 'training', 'evaluation', 'submission', 'pipeline'] as const;
export type StageName = (typeof STAGES)[number];

/** Environment variables `serve` reads (flags win). deploy/ and the README use these names. */
export const SERVE_ENV = {
  port: 'PADDOCK_GRPC_PORT',
  host: 'PADDOCK_GRPC_HOST',
  runsDir: PATH_ENV.runsDir,
  dataRoots: PATH_ENV.dataRoots,
  natsUrl: NATS_ENV.url,
  device: 'PADDOCK_DEVICE',
} as const;

export interface ServeOptions {
  stage: StageName;
  port: number;
  host?: string;
  runsDir: string;
  dataRoots: string[];
  /** NATS JetStream URL(s); 'memory' for an in-process bus; undefined: gRPC only. */
  nats?: string;
  bus?: EventBus;
  device?: 'cpu' | 'cuda' | 'auto';
  log?: Logger;
  /** Called when a run's stage settles in this process (done or failed). */
  onSettled?: (runId: string, state: 'done' | 'failed') => void;
}

export interface ServingStage {
  port: number;
  server: RunningServer;
  bus?: EventBus;
  stop(graceMs?: number): Promise<void>;
}

export async function serveStage(options: ServeOptions): Promise<ServingStage> {
  const log = options.log ?? jsonLogger(`paddock-${options.stage}`);
  const has = (s: StageName) => options.stage === s || (options.stage === 'pipeline' && s !== 'augment');
  const worker = options.stage === 'augment' ? new AugmentWorker({ device: options.device }) : undefined;
  const registrations: Registration[] = [
    ...(has('ingestion') ? [ingestionService({ dataRoots: options.dataRoots })] : []),
    ...(worker ? [augmentService(worker)] : []),
    ...(has('training') ? [trainingService()] : []),
    ...(has('evaluation') ? [evaluationService()] : []),
    ...(has('submission') ? [submissionService()] : []),
  ];
  // NATS first: an unreachable server fails the start instead of leaving a gRPC-only half.
  const ownBus = !options.bus && options.nats ? (options.nats === 'memory' ? new MemoryEventBus() : await JetStreamEventBus.connect(natsOptionsFrom(process.env, { servers: options.nats.split(','), name: `paddock-${options.stage}` }))) : undefined;
  const server = await startServer(registrations, { port: options.port, host: options.host, log });
  const bus = options.bus ?? ownBus;
  const subscriptions: Subscription[] = [];
  if (bus) {
    const common = { bus, runsDir: options.runsDir, dataRoots: options.dataRoots, device: options.device, onSettled: options.onSettled, log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => log(level, msg, fields) };
    if (has('ingestion')) subscriptions.push(await ingestionHandler(common));
    if (has('training')) subscriptions.push(await trainingHandler(common));
    if (has('evaluation')) subscriptions.push(await evaluationHandler(common));
    if (has('submission')) subscriptions.push(await submissionHandler(common));
    log('info', 'consuming events', { stage: options.stage, handlers: subscriptions.length });
  }
  return {
    port: server.port,
    server,
    bus,
    async stop(graceMs = 10_000) {
      server.health.setAll(false);
      await Promise.all(subscriptions.map((s) => s.stop()));
      await server.shutdown(graceMs);
      await ownBus?.close();
      await worker?.close();
      log('info', 'stopped', { stage: options.stage });
    },
  };
}

interface ServeFlags {
  port?: number;
  host?: string;
  runs?: string;
  dataRoots?: string;
  nats?: string;
  device?: 'cpu' | 'cuda' | 'auto';
  graceMs: number;
  maxRuns?: number;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run a stage as a gRPC service (+ grpc.health.v1); with --nats also its pipeline event handler')
    .addArgument(new Argument('<stage>', 'ingestion | augment | training | evaluation | submission | pipeline').choices(STAGES))
    .option('--port <n>', `gRPC port, 0 for any free one (env ${SERVE_ENV.port}, default 50051)`, number('--port'))
    .option('--host <addr>', `address to listen on (env ${SERVE_ENV.host}, default 0.0.0.0)`)
    .option('--runs <dir>', `runs root: run folders and artifacts (env ${SERVE_ENV.runsDir}, default ./runs)`)
    .option('--data-roots <dirs>', `colon-separated folders datasets may live in (env ${SERVE_ENV.dataRoots}, default the working directory)`)
    .option('--nats <url>', `NATS server URL(s), comma-separated, or "memory" (env ${SERVE_ENV.natsUrl}); without it, gRPC only`)
    .addOption(new Option('--device <d>', `execution provider of augment and training, overriding the recipe's (env ${SERVE_ENV.device})`).choices(['cpu', 'cuda', 'auto']))
    .option('--grace-ms <ms>', 'on SIGTERM, how long in-flight calls may finish', number('--grace-ms'), 10_000)
    .option('--max-runs <n>', 'exit 0 after this many runs settled (done or failed) here: a Kubernetes Job', number('--max-runs'))
    .action(async (stage: StageName, flags: ServeFlags) => {
      const env = process.env;
      let stopNow = () => {};
      let settled = 0;
      const serving = await serveStage({
        stage,
        port: flags.port ?? Number(env[SERVE_ENV.port] ?? 50051),
        host: flags.host ?? env[SERVE_ENV.host],
        runsDir: flags.runs ?? env[SERVE_ENV.runsDir] ?? 'runs',
        dataRoots: dataRootsFrom(flags.dataRoots ? { [SERVE_ENV.dataRoots]: flags.dataRoots } : env),
        nats: flags.nats ?? env[SERVE_ENV.natsUrl],
        device: flags.device ?? (env[SERVE_ENV.device] as ServeFlags['device']),
        onSettled: () => {
          if (flags.maxRuns && ++settled >= flags.maxRuns) stopNow();
        },
      });
      // Machine-readable readiness line on stdout (the chosen port when --port 0).
      process.stdout.write(`${JSON.stringify({ stage, port: serving.port })}\n`);
      await new Promise<void>((resolve) => {
        const onSignal = () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          void serving.stop(flags.graceMs).then(resolve, resolve);
        };
        stopNow = onSignal;
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
