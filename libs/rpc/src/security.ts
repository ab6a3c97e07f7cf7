// gRPC transport security and limits from the environment. Without PADDOCK_GRPC_TLS_CERT the
// servers listen in plaintext (loopback, or a mesh that encrypts for us).
//   PADDOCK_GRPC_TLS_CERT / PADDOCK_GRPC_TLS_KEY  server certificate chain and key (PEM files)
//   PADDOCK_GRPC_TLS_CA                           CA bundle: servers require client certs signed by it;
//                                                 clients verify servers with it
//   PADDOCK_GRPC_TLS_CLIENT_CERT / _CLIENT_KEY    client certificate for mTLS (optional)
//   PADDOCK_GRPC_MAX_MESSAGE_MB                   largest message either way (default 256: tensor batches)
import { readFileSync } from 'node:fs';
import { ChannelCredentials, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';

export const ENV = {
  tlsCert: 'PADDOCK_GRPC_TLS_CERT',
  tlsKey: 'PADDOCK_GRPC_TLS_KEY',
  tlsCa: 'PADDOCK_GRPC_TLS_CA',
  tlsClientCert: 'PADDOCK_GRPC_TLS_CLIENT_CERT',
  tlsClientKey: 'PADDOCK_GRPC_TLS_CLIENT_KEY',
  maxMessageMb: 'PADDOCK_GRPC_MAX_MESSAGE_MB',
} as const;

type Env = Record<string, string | undefined>;

export class RpcConfigError extends Error {
  readonly exitCode = 2;
}

const read = (env: Env, name: string) => {
  const path = env[name];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new RpcConfigError(`${name}=${path}: cannot read (${(e as Error).message}); point it at a PEM file or unset it`);
  }
};

export function serverCredentials(env: Env = process.env): ServerCredentials {
  const cert = read(env, ENV.tlsCert);
  const key = read(env, ENV.tlsKey);
  if (!cert && !key) return ServerCredentials.createInsecure();
  if (!cert || !key) throw new RpcConfigError(`set both ${ENV.tlsCert} and ${ENV.tlsKey}, or neither`);
  const ca = read(env, ENV.tlsCa);
  return ServerCredentials.createSsl(ca ?? null, [{ cert_chain: cert, private_key: key }], Boolean(ca));
}

export function channelCredentials(env: Env = process.env): ChannelCredentials {
  const ca = read(env, ENV.tlsCa);
  const cert = read(env, ENV.tlsClientCert);
  const key = read(env, ENV.tlsClientKey);
  if (!ca && !cert && !env[ENV.tlsCert]) return ChannelCredentials.createInsecure();
  return ChannelCredentials.createSsl(ca ?? null, key ?? null, cert ?? null);
}

export function maxMessageBytes(env: Env = process.env): number {
  const mb = Number(env[ENV.maxMessageMb] ?? 256);
  if (!(mb > 0)) throw new RpcConfigError(`${ENV.maxMessageMb} must be a positive number of MiB, got "${env[ENV.maxMessageMb]}"`);
  return Math.floor(mb * 1024 * 1024);
}

export function messageSizeOptions(env: Env = process.env): ChannelOptions {
  const max = maxMessageBytes(env);
  return { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max };
}
