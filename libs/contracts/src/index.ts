// Messages that cross a process boundary, generated from proto/ (npm run generate), and the
// NATS subjects of the pipeline events.
export * from './gen/paddock/v1/tensor_pb.ts';
export * from './gen/paddock/v1/dataset_pb.ts';
export * from './gen/paddock/v1/augment_pb.ts';
export * from './gen/paddock/v1/training_pb.ts';
export * from './gen/paddock/v1/evaluation_pb.ts';
export * from './gen/paddock/v1/submission_pb.ts';
export * from './gen/paddock/v1/services_pb.ts';
export * from './gen/paddock/v1/events_pb.ts';
export { subjects, type Subject } from './subjects.ts';
export * from './gen/grpc/health/v1/health_pb.ts';
export { PATH_ENV, PathConfinementError, confineDataDir, dataRootsFrom, runDirOf } from './paths.ts';
export { artifactRef, resolveArtifact, readManifestFile } from './artifacts.ts';
