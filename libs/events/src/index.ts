// @paddock/events: the pipeline's EventBus — NATS JetStream across processes, in memory inside
// one — plus the per-(run, stage) completion records that make stage handlers idempotent, and
// the artifact store on the JetStream object store for cluster mode.
export * from './bus.ts';
export { MemoryEventBus } from './memory.ts';
export { JetStreamEventBus, NATS_ENV, natsOptionsFrom, type JetStreamOptions } from './jetstream.ts';
export { StageLedger, type StageRecord, type StageState } from './ledger.ts';
export { runStage, type StageContext, type StageHandlerOptions, type StageServiceOptions } from './stage.ts';
export { startNatsServer, freePort, type NatsServer } from './nats-server.ts';
export { ARTIFACTS_DIR, ARTIFACTS_ENV, DEFAULT_ARTIFACT_BUCKET, JetStreamArtifactStore, artifactStoreFrom } from './object-store.ts';
