// The in-memory EventBus: one process, same semantics as JetStream — a stored stream, message-id
// de-duplication inside a window, durable consumers that start at the beginning of the stream and
// keep their position across subscribe/stop, redelivery with backoff up to maxDeliver.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { DEFAULT_MAX_DELIVER, backoffFor, subjectMatches, type EventBus, type EventHandler, type PublishResult, type StoredEvent, type SubscribeOptions, type Subscription } from './bus.ts';

interface Stored {
  seq: number;
  subject: string;
  msgId: string;
  data: Uint8Array;
}

interface Consumer {
  filter: string;
  /** Next stream sequence to deliver for the first time. */
  next: number;
  deliveries: Map<number, number>;
  active?: { run: () => void; stopped: boolean; idle: Promise<void> };
}

export class MemoryEventBus implements EventBus {
  private readonly stream: Stored[] = [];
  private readonly seen = new Map<string, { at: number; seq: number }>();
  private readonly consumers = new Map<string, Consumer>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: { duplicateWindowMs?: number } = {}) {}

  async publish<D extends DescMessage>(subject: string, schema: D, message: MessageInitShape<D>, { msgId }: { msgId: string }): Promise<PublishResult> {
    const now = Date.now();
    const window = this.options.duplicateWindowMs ?? 120_000;
    const prior = this.seen.get(msgId);
    if (prior && now - prior.at < window) return { seq: prior.seq, duplicate: true };
    const seq = this.stream.length + 1;
    this.stream.push({ seq, subject, msgId, data: toBinary(schema, create(schema, message)) });
    this.seen.set(msgId, { at: now, seq });
    for (const c of this.consumers.values()) c.active?.run();
    return { seq, duplicate: false };
  }

  async subscribe<D extends DescMessage>(subject: string, schema: D, options: SubscribeOptions, handler: EventHandler<D>): Promise<Subscription> {
    let consumer = this.consumers.get(options.durable);
    if (!consumer) this.consumers.set(options.durable, (consumer = { filter: subject, next: 1, deliveries: new Map() }));
    if (consumer.active && !consumer.active.stopped) throw new Error(`durable ${options.durable} already has a subscriber in this process`);
    const c = consumer;
    const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    // Redeliveries waiting for their backoff, by sequence.
    const due: number[] = [];
    let running = false;
    let resolveIdle = () => {};
    const state = { stopped: false, idle: Promise.resolve(), run: () => {} };
    const pick = (): Stored | undefined => {
      if (due.length) return this.stream[due.shift()! - 1];
      while (c.next <= this.stream.length) {
        const s = this.stream[c.next++ - 1];
        if (subjectMatches(c.filter, s.subject)) return s;
      }
      return undefined;
    };
    state.run = () => {
      if (running || state.stopped) return;
      running = true;
      state.idle = new Promise<void>((r) => (resolveIdle = r));
      void (async () => {
        for (let s = pick(); s && !state.stopped; s = state.stopped ? undefined : pick()) {
          const count = (c.deliveries.get(s.seq) ?? 0) + 1;
          c.deliveries.set(s.seq, count);
          try {
            await handler(fromBinary(schema, s.data), { subject: s.subject, msgId: s.msgId, deliveryCount: count, lastAttempt: count >= maxDeliver, seq: s.seq });
            c.deliveries.delete(s.seq);
          } catch (error) {
            if (count < maxDeliver) {
              const seq = s.seq;
              const t = setTimeout(() => {
                this.timers.delete(t);
                due.push(seq);
                state.run();
              }, backoffFor(options, count, error));
              this.timers.add(t);
            }
          }
        }
        running = false;
        resolveIdle();
      })();
    };
    c.active = state;
    state.run();
    return {
      stop: async () => {
        state.stopped = true;
        await state.idle;
      },
    };
  }

  async read<D extends DescMessage>(subject: string, schema: D): Promise<StoredEvent<D>[]> {
    return this.stream.filter((s) => subjectMatches(subject, s.subject)).map((s) => ({ message: fromBinary(schema, s.data), msgId: s.msgId, seq: s.seq }));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.consumers.values()].map(async (c) => {
      if (c.active) {
        c.active.stopped = true;
        await c.active.idle;
      }
    }));
  }
}
