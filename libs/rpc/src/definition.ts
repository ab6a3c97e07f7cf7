// grpc-js ServiceDefinitions built from protobuf-es descriptors: the path is
// /<package>.<Service>/<Method>, the wire format protobuf binary (toBinary / fromBinary), so any
// gRPC client in any language talks to these servers.
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

export type AnyService = GenService<GenServiceMethods>;

/** Every RPC of `service` as a grpc-js MethodDefinition, keyed by the method's localName. */
export function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming') {
      throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} RPCs are not supported by @paddock/rpc`);
    }
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: method.methodKind === 'server_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    };
  }
  return definition as ServiceDefinition;
}

function serializer(schema: DescMessage) {
  return (message: unknown) => Buffer.from(toBinary(schema, create(schema, message as MessageInitShape<DescMessage>)));
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes) as MessageShape<DescMessage>;
}
