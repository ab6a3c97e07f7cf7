// The EventBus on NATS JetStream: one stream (PADDOCK) capturing `paddock.>`, publish with
// Nats-Msg-Id for server-side de-duplication, durable pull consumers with explicit acks, nak with
// backoff on failure, and `working()` heartbeats so a long stage is not redelivered mid-work.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_MAX_DELIVER, backoffFor, subjectMatches as subjectMatchesStored, type EventBus, type EventHandler, type PublishResult, type StoredEvent, type SubscribeOptions, type Subscription } from './bus.ts';

export const NATS_ENV = {
  /** Comma-separated server URLs, e.g. nats://nats:4222. */
  url: 'PADDOCK_NATS_URL',
  user: 'PADDOCK_NATS_USER',
  password: 'PADDOCK_NATS_PASSWORD',
  token: 'PADDOCK_NATS_TOKEN',
  /** Stream name (default PADDOCK). */
  stream: 'PADDOCK_NATS_STREAM',
  /** Milliseconds before an unacknowledged event (its worker crashed) is redelivered; default 30000. */
  ackWaitMs: 'PADDOCK_NATS_ACK_WAIT_MS',
} as const;

export interface JetStreamOptions {
  servers: string | string[];
  user?: string;
  password?: string;
  token?: string;
  stream?: string;
  /** Subjects the stream captures (default paddock.>). */
  subjects?: string[];
  /** De-duplication window (default 2 min, JetStream's default). */
  duplicateWindowMs?: number;
  /** How long a delivery may go without an ack or heartbeat before redelivery (default 30 s). */
  ackWaitMs?: number;
  name?: string;
}

/** Options from PADDOCK_NATS_* (flags given explicitly win). */
export function natsOptionsFrom(env: Record<string, string | undefined> = process.env, overrides: Partial<JetStreamOptions> = {}): JetStreamOptions {
  const servers = overrides.servers ?? env[NATS_ENV.url]?.split(',') ?? 'nats://127.0.0.1:4222';
  return {
    servers,
    user: env[NATS_ENV.user] || undefined,
    password: env[NATS_ENV.password] || undefined,
    token: env[NATS_ENV.token] || undefined,
    stream: env[NATS_ENV.stream] || undefined,
    ackWaitMs: env[NATS_ENV.ackWaitMs] ? Number(env[NATS_ENV.ackWaitMs]) : undefined,
    ...overrides,
  };
}

export class JetStreamEventBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private constructor(
    readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly ackWaitMs: number,
  ) {}

  static async connect(options: JetStreamOptions): Promise<JetStreamEventBus> {
    const connection = await connect({ servers: options.servers, user: options.user, pass: options.password, token: options.token, name: options.name ?? 'paddock', maxReconnectAttempts: -1, reconnectTimeWait: 500 }).catch((e: unknown) => {
      const servers = [options.servers].flat().join(', ');
      throw Object.assign(new Error(`cannot reach NATS at ${servers} (${(e as Error).message}); start one (nats-server -js) or point --nats / PADDOCK_NATS_URL at it`), { exitCode: 2 });
    });
    const jsm = await jetstreamManager(connection);
    const stream = options.stream ?? 'PADDOCK';
    const config = { name: stream, subjects: options.subjects ?? ['paddock.>'], duplicate_window: nanos(options.duplicateWindowMs ?? 120_000) };
    try {
      await jsm.streams.info(stream);
      await jsm.streams.update(stream, { subjects: config.subjects, duplicate_window: config.duplicate_window });
    } catch (e) {
      if (!(e instanceof JetStreamApiError) && !String(e).includes('not found')) throw e;
      await jsm.streams.add(config);
    }
    return new JetStreamEventBus(connection, jetstream(connection), jsm, stream, options.ackWaitMs ?? 30_000);
  }

  /** Deliveries of a durable consumer that the server has not yet seen acknowledged. */
  async pendingAcks(durable: string): Promise<number> {
    return (await this.jsm.consumers.info(this.stream, durable)).num_ack_pending;
  }

  async publish<D extends DescMessage>(subject: string, schema: D, message: MessageInitShape<D>, { msgId }: { msgId: string }): Promise<PublishResult> {
    const ack = await this.js.publish(subject, toBinary(schema, create(schema, message)), { msgID: msgId, timeout: 10_000 });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  async subscribe<D extends DescMessage>(subject: string, schema: D, options: SubscribeOptions, handler: EventHandler<D>): Promise<Subscription> {
    const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    const config = { durable_name: options.durable, filter_subject: subject, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_deliver: maxDeliver, ack_wait: nanos(this.ackWaitMs) };
    try {
      await this.jsm.consumers.info(this.stream, options.durable);
      await this.jsm.consumers.update(this.stream, options.durable, { filter_subject: subject, max_deliver: maxDeliver, ack_wait: config.ack_wait });
    } catch (e) {
      if (!String(e).includes('not found')) throw e;
      await this.jsm.consumers.add(this.stream, config);
    }
    const consumer = await this.js.consumers.get(this.stream, options.durable);
    const messages = await consumer.consume({ max_messages: 1 });
    const loop = (async () => {
      for await (const m of messages) {
        const heartbeat = setInterval(() => m.working(), Math.max(1000, this.ackWaitMs / 3));
        const count = m.info.deliveryCount;
        try {
          await handler(fromBinary(schema, m.data), { subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') ?? '', deliveryCount: count, lastAttempt: count >= maxDeliver, seq: m.seq });
          await m.ackAck().catch(() => m.ack());
        } catch (error) {
          if (count >= maxDeliver) m.term('max deliveries reached');
          else m.nak(backoffFor(options, count, error));
        } finally {
          clearInterval(heartbeat);
        }
      }
    })();
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await messages.close();
        await loop.catch(() => {});
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async read<D extends DescMessage>(subject: string, schema: D): Promise<StoredEvent<D>[]> {
    const info = await this.jsm.streams.info(this.stream);
    const out: StoredEvent<D>[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await this.jsm.streams.getMessage(this.stream, { seq }).catch(() => null);
      if (!m || !subjectMatchesStored(subject, m.subject)) continue;
      out.push({ message: fromBinary(schema, m.data), msgId: m.header?.get('Nats-Msg-Id') ?? '', seq: m.seq });
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of [...this.subscriptions]) await s.stop();
    await this.connection.drain().catch(() => this.connection.close());
  }
}
