// @paddock/events: the pipeline's EventBus — NATS JetStream across processes, in memory inside
// one — plus the per-(run, stage) completion records that make stage handlers idempotent.
export * from './bus.ts';
export { MemoryEventBus } from './memory.ts';
export { JetStreamEventBus, NATS_ENV, natsOptionsFrom, type JetStreamOptions } from './jetstream.ts';
export { StageLedger, type StageRecord, type StageState } from './ledger.ts';
export { runStage, type StageHandlerOptions, type StageServiceOptions } from './stage.ts';
export { startNatsServer, freePort, type NatsServer } from './nats-server.ts';
