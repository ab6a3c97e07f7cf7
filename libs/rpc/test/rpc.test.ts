// The grpc-js adapter on real sockets: paths and wire format from the descriptors, typed errors
// as status codes, deadlines, health, message-size limits and TLS from the environment.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { Health, HealthCheckResponse_ServingStatus, IngestResponseSchema, IngestionService, AugmentService } from '@paddock/contracts';
import { describe, expect, it } from 'vitest';
import { RpcConfigError, createClient, maxMessageBytes, register, serviceDefinition, startServer, status } from '../src/index.ts';

describe('@paddock/rpc', () => {
  it('builds grpc-js definitions from the descriptors', () => {
    const d = serviceDefinition(IngestionService);
    expect(d.ingest.path).toBe('/paddock.v1.IngestionService/Ingest');
    expect(d.ingest.responseStream).toBe(false);
    expect(serviceDefinition(AugmentService).streamBatches).toMatchObject({ path: '/paddock.v1.AugmentService/StreamBatches', responseStream: true });
    const bytes = d.ingest.responseSerialize({ manifest: { vocab: ['a', 'b'] } });
    expect(Buffer.from(bytes).equals(Buffer.from(toBinary(IngestResponseSchema, create(IngestResponseSchema, { manifest: { vocab: ['a', 'b'] } }))))).toBe(true);
    expect(serviceDefinition(Health).watch.path).toBe('/grpc.health.v1.Health/Watch');
  });

  it('serves unary calls, maps errors to status codes, honours deadlines and reports health', async () => {
    const server = await startServer(
      [
        register(IngestionService, {
          async ingest(request, ctx) {
            if (request.spec?.dataDir === 'bad') throw new RangeError('data_dir is bad');
            if (request.spec?.dataDir === 'slow') await new Promise((r) => ctx.signal.addEventListener('abort', r));
            return { manifest: { dataDir: request.spec?.dataDir, vocab: ['x'] } };
          },
        }),
      ],
      { port: 0, host: '127.0.0.1' },
    );
    const client = createClient(IngestionService, `127.0.0.1:${server.port}`);
    try {
      expect((await client.ingest({ spec: { dataDir: '/d' } })).manifest?.vocab).toEqual(['x']);
      await expect(client.ingest({ spec: { dataDir: 'bad' } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'data_dir is bad' });
      await expect(client.ingest({ spec: { dataDir: 'slow' } }, { timeoutMs: 100 })).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
      const health = createClient(Health, `127.0.0.1:${server.port}`);
      expect((await health.check({ service: 'paddock.v1.IngestionService' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      await expect(health.check({ service: 'nope' })).rejects.toMatchObject({ code: status.NOT_FOUND });
      health.close();
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });

  it('limits message size from PADDOCK_GRPC_MAX_MESSAGE_MB and rejects a bad value', () => {
    expect(maxMessageBytes({})).toBe(256 * 1024 * 1024);
    expect(maxMessageBytes({ PADDOCK_GRPC_MAX_MESSAGE_MB: '1' })).toBe(1024 * 1024);
    expect(() => maxMessageBytes({ PADDOCK_GRPC_MAX_MESSAGE_MB: 'lots' })).toThrow(RpcConfigError);
  });

  it('rejects a message over the limit with RESOURCE_EXHAUSTED', async () => {
    const env = { PADDOCK_GRPC_MAX_MESSAGE_MB: '0.01' };
    const server = await startServer([register(IngestionService, { ingest: async () => ({ manifest: { vocab: Array.from({ length: 2000 }, (_, i) => `label-${i}`) } }) })], { port: 0, host: '127.0.0.1', env });
    const client = createClient(IngestionService, `127.0.0.1:${server.port}`, env);
    try {
      await expect(client.ingest({})).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });

  it('speaks TLS when PADDOCK_GRPC_TLS_CERT/KEY are set; a plaintext client is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const env = { PADDOCK_GRPC_TLS_CERT: cert, PADDOCK_GRPC_TLS_KEY: key };
    const server = await startServer([register(IngestionService, { ingest: async () => ({ manifest: { vocab: ['tls'] } }) })], { port: 0, host: '127.0.0.1', env });
    const secure = createClient(IngestionService, `localhost:${server.port}`, { PADDOCK_GRPC_TLS_CA: cert });
    const plain = createClient(IngestionService, `localhost:${server.port}`, {});
    try {
      expect((await secure.ingest({})).manifest?.vocab).toEqual(['tls']);
      await expect(plain.ingest({}, { timeoutMs: 2000 })).rejects.toMatchObject({ code: expect.any(Number) });
      await expect(startServer([], { port: 0, env: { PADDOCK_GRPC_TLS_CERT: cert } })).rejects.toThrow(/PADDOCK_GRPC_TLS_KEY/);
    } finally {
      secure.close();
      plain.close();
      await server.shutdown(100);
    }
  });
});
