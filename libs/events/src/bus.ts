// The EventBus the stages talk through: publish a protobuf event with a message id (a repeat of
// the id inside the de-duplication window is dropped), subscribe with a durable consumer (one per
// stage: replicas share it; a handler that throws gets the event again after a backoff).
import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';

export interface EventMeta {
  subject: string;
  msgId: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** deliveryCount reached the consumer's maxDeliver: a failure now is final. */
  lastAttempt: boolean;
  /** Stream sequence number. */
  seq: number;
}

export type EventHandler<D extends DescMessage> = (message: MessageShape<D>, meta: EventMeta) => Promise<void>;

export interface SubscribeOptions {
  /** Durable consumer name, e.g. the stage's name. */
  durable: string;
  /** Deliveries before giving up (default 3). */
  maxDeliver?: number;
  /** Delay before redelivery n (ms), the last value repeating (default 1 s, 5 s, 30 s). */
  backoffMs?: number[];
}

export interface PublishResult {
  seq: number;
  /** The message id was seen inside the window; nothing was stored. */
  duplicate: boolean;
}

export interface StoredEvent<D extends DescMessage> {
  message: MessageShape<D>;
  msgId: string;
  seq: number;
}

export interface Subscription {
  /** Stop taking events; resolves once the handler in progress (if any) returns. */
  stop(): Promise<void>;
}

export interface EventBus {
  /** How long a delivery may go unacknowledged before it is redelivered (a crashed worker's event). */
  readonly ackWaitMs?: number;
  publish<D extends DescMessage>(subject: string, schema: D, message: MessageInitShape<D>, options: { msgId: string }): Promise<PublishResult>;
  subscribe<D extends DescMessage>(subject: string, schema: D, options: SubscribeOptions, handler: EventHandler<D>): Promise<Subscription>;
  /** Every stored event on `subject`, oldest first (status views and tests). */
  read<D extends DescMessage>(subject: string, schema: D): Promise<StoredEvent<D>[]>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_DELIVER = 3;
export const DEFAULT_BACKOFF_MS = [1000, 5000, 30000];

/** Delay before the next delivery: the handler's error may ask for one (retryAfterMs), else the backoff. */
export function backoffFor(options: SubscribeOptions, deliveryCount: number, error?: unknown): number {
  const asked = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof asked === 'number' && asked >= 0) return asked;
  const steps = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  return steps[Math.min(deliveryCount - 1, steps.length - 1)] ?? 0;
}

/** NATS subject matching: `*` one token, `>` the rest. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
