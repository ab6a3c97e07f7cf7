// @paddock/rpc: gRPC (grpc-js) servers and clients for the services in proto/paddock/v1, built
// from the protobuf-es descriptors, with grpc.health.v1, TLS from the environment and JSON logs.
export { serviceDefinition, type AnyService } from './definition.ts';
export { startServer, register, RpcError, HealthRegistry, type CallContext, type Registration, type RunningServer, type ServiceImplementation, type StartOptions } from './server.ts';
export { createClient, type CallOptions, type ServiceClient } from './client.ts';
export { ENV as RPC_ENV, RpcConfigError, channelCredentials, serverCredentials, maxMessageBytes, messageSizeOptions } from './security.ts';
export { jsonLogger, silentLogger, type Logger, type Level } from './log.ts';
export { status } from '@grpc/grpc-js';
