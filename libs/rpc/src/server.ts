// A stage's gRPC server: typed handlers (a unary RPC is an async function, a server-streaming RPC
// an async iterable), the grpc.health.v1 service, deadlines and cancellation surfaced as an
// AbortSignal, typed errors mapped to status codes, and a graceful shutdown.
import { create, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Metadata, Server, status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus } from '@paddock/contracts';
import { serviceDefinition, type AnyService } from './definition.ts';
import { silentLogger, type Logger } from './log.ts';
import { messageSizeOptions, serverCredentials } from './security.ts';

export interface CallContext {
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  signal: AbortSignal;
  metadata: Metadata;
  deadline: Date | undefined;
}

type Method = GenServiceMethods[string];
type Handler<M extends Method> = M['methodKind'] extends 'unary'
  ? (request: MessageShape<M['input']>, ctx: CallContext) => Promise<MessageInitShape<M['output']>>
  : (request: MessageShape<M['input']>, ctx: CallContext) => AsyncIterable<MessageInitShape<M['output']>>;

export type ServiceImplementation<S extends GenServiceMethods> = { [K in keyof S]: Handler<S[K]> };

export interface Registration {
  service: AnyService;
  implementation: Record<string, (request: never, ctx: CallContext) => unknown>;
}

/** Pair a service with its handlers, type-checked against the service's methods. */
export function register<S extends GenServiceMethods>(service: GenService<S>, implementation: ServiceImplementation<S>): Registration {
  return { service: service as unknown as AnyService, implementation: implementation as unknown as Registration['implementation'] };
}

/** Thrown by a handler to choose the status code; other errors map by their shape (see codeOf). */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

function codeOf(error: unknown, signal: AbortSignal): status {
  if (error instanceof RpcError) return error.code;
  if (signal.aborted) return signal.reason === 'deadline' ? status.DEADLINE_EXCEEDED : status.CANCELLED;
  const e = error as { exitCode?: number; name?: string };
  if (e?.exitCode === 2 || e?.name === 'RangeError' || e?.name === 'DatasetError') return status.INVALID_ARGUMENT;
  return status.INTERNAL;
}

function contextOf(call: { getDeadline(): Date | number; metadata: Metadata; on(event: 'cancelled', l: () => void): unknown }, shutdown: AbortSignal): { ctx: CallContext; done: () => void } {
  const controller = new AbortController();
  const raw = call.getDeadline();
  const deadline = raw instanceof Date ? raw : Number.isFinite(raw) ? new Date(raw) : undefined;
  const timer = deadline ? setTimeout(() => controller.abort('deadline'), Math.max(0, deadline.getTime() - Date.now())) : undefined;
  call.on('cancelled', () => controller.abort('cancelled'));
  const onShutdown = () => controller.abort('shutdown');
  shutdown.addEventListener('abort', onShutdown);
  return { ctx: { signal: controller.signal, metadata: call.metadata, deadline }, done: () => (clearTimeout(timer), shutdown.removeEventListener('abort', onShutdown)) };
}

export class HealthRegistry {
  private readonly statuses = new Map<string, HealthCheckResponse_ServingStatus>();
  private readonly watchers = new Set<() => void>();
  /** Set at shutdown: Watch streams send the final NOT_SERVING and end, so they do not hold the server open. */
  closing = false;
  set(service: string, serving: boolean): void {
    this.statuses.set(service, serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING);
    for (const w of this.watchers) w();
  }
  setAll(serving: boolean): void {
    for (const name of [...this.statuses.keys()]) this.set(name, serving);
  }
  get(service: string): HealthCheckResponse_ServingStatus | undefined {
    return this.statuses.get(service);
  }
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }
}

function healthRegistration(health: HealthRegistry): Registration {
  return register(Health, {
    async check(request) {
      const s = health.get(request.service);
      if (s === undefined) throw new RpcError(status.NOT_FOUND, `unknown service "${request.service}"`);
      return { status: s };
    },
    async *watch(request, ctx) {
      let changed: () => void = () => {};
      const stop = health.watch(() => changed());
      try {
        while (!ctx.signal.aborted) {
          yield create(HealthCheckResponseSchema, { status: health.get(request.service) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
          if (health.closing) return;
          await new Promise<void>((resolve) => {
            changed = resolve;
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      } finally {
        stop();
      }
    },
  });
}

export interface StartOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  log?: Logger;
  env?: Record<string, string | undefined>;
}

export interface RunningServer {
  port: number;
  health: HealthRegistry;
  /** Stop taking calls, let in-flight ones finish for up to graceMs, then cancel them. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startServer(registrations: Registration[], options: StartOptions): Promise<RunningServer> {
  const log = options.log ?? silentLogger;
  const server = new Server({ ...messageSizeOptions(options.env), 'grpc.keepalive_time_ms': 30_000 });
  const stopping = new AbortController();
  const health = new HealthRegistry();
  health.set('', true);
  for (const reg of [...registrations, healthRegistration(health)]) {
    const definition = serviceDefinition(reg.service);
    const handlers: UntypedServiceImplementation = {};
    for (const method of reg.service.methods) {
      const fn = reg.implementation[method.localName];
      if (!fn) throw new Error(`${reg.service.typeName}: no handler for ${method.name}`);
      const rpc = `${reg.service.typeName}/${method.name}`;
      const output = method.output as DescMessage;
      if (method.methodKind === 'unary') {
        handlers[method.localName] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
          const { ctx, done } = contextOf(call, stopping.signal);
          const started = performance.now();
          (fn as (r: unknown, c: CallContext) => Promise<MessageInitShape<DescMessage>>)(call.request, ctx)
            .then((out) => {
              log('info', 'rpc done', { rpc, ms: Math.round(performance.now() - started) });
              callback(null, create(output, out));
            })
            .catch((error: unknown) => {
              const code = codeOf(error, ctx.signal);
              log(code === status.INTERNAL ? 'error' : 'warn', 'rpc failed', { rpc, code: status[code], error: (error as Error)?.message ?? String(error) });
              callback({ code, details: (error as Error)?.message ?? String(error) } as ServiceError);
            })
            .finally(done);
        };
      } else {
        handlers[method.localName] = (call: ServerWritableStream<unknown, unknown>) => {
          const { ctx, done } = contextOf(call, stopping.signal);
          const started = performance.now();
          (async () => {
            let sent = 0;
            try {
              for await (const out of (fn as (r: unknown, c: CallContext) => AsyncIterable<MessageInitShape<DescMessage>>)(call.request, ctx)) {
                if (ctx.signal.aborted) break;
                sent++;
                // Back-pressure: wait for the socket to drain before producing the next message.
                if (!call.write(create(output, out))) await new Promise<void>((resolve) => call.once('drain', resolve));
              }
              if (ctx.signal.aborted) throw new Error(`stream ${ctx.signal.reason}`);
              log('info', 'rpc done', { rpc, messages: sent, ms: Math.round(performance.now() - started) });
              call.end();
            } catch (error) {
              const code = codeOf(error, ctx.signal);
              log(code === status.INTERNAL ? 'error' : 'warn', 'rpc failed', { rpc, code: status[code], messages: sent, error: (error as Error)?.message ?? String(error) });
              call.destroy(Object.assign(new Error((error as Error)?.message ?? String(error)), { code, details: (error as Error)?.message }) as ServiceError);
            } finally {
              done();
            }
          })();
        };
      }
    }
    server.addService(definition, handlers);
    if (reg.service !== Health) health.set(reg.service.typeName, true);
  }
  const address = `${options.host ?? '0.0.0.0'}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, serverCredentials(options.env), (err, p) => (err ? reject(err) : resolve(p))));
  log('info', 'listening', { address: `${options.host ?? '0.0.0.0'}:${port}`, services: registrations.map((r) => r.service.typeName) });
  return {
    port,
    health,
    async shutdown(graceMs = 10_000) {
      health.closing = true;
      health.setAll(false);
      log('info', 'shutting down', { graceMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          stopping.abort('shutdown');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => (clearTimeout(timer), resolve()));
      });
    },
  };
}
