// Typed clients for the services: a unary RPC returns a Promise of the response message, a
// server-streaming one an AsyncIterable; every call carries a deadline (default 60 s unary,
// none for streams unless given) and an optional AbortSignal.
import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Client, Metadata, makeGenericClientConstructor, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { serviceDefinition, type AnyService } from './definition.ts';
import { channelCredentials, messageSizeOptions } from './security.ts';

export interface CallOptions {
  /** Milliseconds from now. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Method = GenServiceMethods[string];
type ClientMethod<M extends Method> = M['methodKind'] extends 'unary'
  ? (request: MessageInitShape<M['input']>, options?: CallOptions) => Promise<MessageShape<M['output']>>
  : (request: MessageInitShape<M['input']>, options?: CallOptions) => AsyncIterable<MessageShape<M['output']>>;

export type ServiceClient<S extends GenServiceMethods> = { [K in keyof S]: ClientMethod<S[K]> } & { close(): void; address: string };

const DEFAULT_UNARY_TIMEOUT_MS = 60_000;

export function createClient<S extends GenServiceMethods>(service: GenService<S>, address: string, env: Record<string, string | undefined> = process.env): ServiceClient<S> {
  const Ctor = makeGenericClientConstructor(serviceDefinition(service as unknown as AnyService), service.name);
  const client = new Ctor(address, channelCredentials(env), messageSizeOptions(env)) as Client & Record<string, (...args: unknown[]) => unknown>;
  const out: Record<string, unknown> = { close: () => client.close(), address };
  for (const method of service.methods) {
    const name = method.localName;
    if (method.methodKind === 'unary') {
      out[name] = (request: unknown, options: CallOptions = {}) =>
        new Promise((resolve, reject) => {
          const call = client[name](request, new Metadata(), { deadline: Date.now() + (options.timeoutMs ?? DEFAULT_UNARY_TIMEOUT_MS) }, (err: ServiceError | null, response: unknown) => (err ? reject(err) : resolve(response))) as { cancel(): void };
          options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
        });
    } else {
      out[name] = (request: unknown, options: CallOptions = {}) => {
        const call = client[name](request, new Metadata(), options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {}) as ClientReadableStream<unknown>;
        options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
        return call as AsyncIterable<unknown>;
      };
    }
  }
  return out as ServiceClient<S>;
}
