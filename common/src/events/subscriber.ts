import { z } from 'zod';
import type { ServiceIdentity } from '../auth';
import { eventOwner } from '../contracts/callers';
import { eventSchemas, type EventType } from '../contracts/events';
import { isDuplicateKey, type Knex } from '../db';
import { describeError } from '../errors';
import { runWithContext, type Logger } from '../logger';
import { type Broker, declareQuorumQueue, type Delivery, ensureDeadLetter, ManagedChannel, type Settlement } from '../messaging';
import { contextFromHeaders } from '../messaging/context';
import { declareEventsExchange, eventFacts, type EventEnvelope } from './outbox';

const envelopeSchema = z.object({ id: z.uuid(), type: z.string(), occurredAt: z.string(), payload: z.unknown() });

type SubjectOf<T> = T extends `${infer Subject}.${string}` ? Subject : never;
/** What a subscription binds: an event type, or every event of a subject (`listing.*`). */
export type EventPattern = EventType | `${SubjectOf<EventType>}.*`;
/** The event types a pattern matches: `listing.*` → every `listing.…` type. */
export type EventsMatching<P extends EventPattern> = P extends `${infer Subject}.*` ? Extract<EventType, `${Subject}.${string}`> : Extract<EventType, P>;

interface SubscriptionBase<P extends EventPattern> {
  /** A durable queue shared by the service's replicas; omit for a private, temporary queue per process. */
  queue?: string;
  patterns: readonly P[];
}

/** Each event id is handled once: it is recorded in `dedupe` in the same transaction as the handling, which the handler joins. */
export interface DedupedSubscription<P extends EventPattern> extends SubscriptionBase<P> {
  dedupe: Knex;
  handler: (event: EventEnvelope<EventsMatching<P>>, trx: Knex.Transaction) => Promise<void>;
}

/** Handled at least once: the handler must be idempotent by itself. */
export interface PlainSubscription<P extends EventPattern> extends SubscriptionBase<P> {
  dedupe?: undefined;
  handler: (event: EventEnvelope<EventsMatching<P>>) => Promise<void>;
}

export type SubscriptionOptions<P extends EventPattern = EventPattern> = DedupedSubscription<P> | PlainSubscription<P>;

/** A subscription with its handler widened to any event, after checking the event is one it asked for. */
interface Subscription {
  queue: string | undefined;
  patterns: readonly string[];
  handle(event: EventEnvelope): Promise<void>;
}

const RETRY_DELAY_MS = 1000;

/** Consumes events; acks after handling, ignores duplicates, dead-letters what cannot be read. */
export class EventSubscriber {
  private readonly subscriptions: Subscription[] = [];
  private readonly channels: ManagedChannel[] = [];
  private stopping = false;

  constructor(
    private readonly broker: Broker,
    private readonly options: { prefix: string; logger: Logger; identity: ServiceIdentity },
  ) {}

  subscribe<P extends EventPattern>(subscription: SubscriptionOptions<P>): this {
    const { patterns } = subscription;
    // The intersection, because TypeScript cannot see that a generic subset of the union is assignable to it.
    const matches = (event: EventEnvelope): event is EventEnvelope & EventEnvelope<EventsMatching<P>> => patterns.some((pattern) => matchesPattern(event.type, pattern));
    const accept = async (event: EventEnvelope, run: (event: EventEnvelope<EventsMatching<P>>) => Promise<void>): Promise<void> => {
      // Only reachable through a binding of another release: acknowledged, not handled as something else.
      if (!matches(event)) this.options.logger.warn('event of a type this subscription did not ask for ignored', { type: event.type, eventId: event.id });
      else await run(event);
    };
    const { dedupe } = subscription;
    const handle = dedupe
      ? (event: EventEnvelope) =>
          dedupe.transaction(async (trx) => {
            try {
              await trx('processed_events').insert({ event_id: event.id, processed_at: new Date() });
            } catch (err) {
              if (isDuplicateKey(err)) return; // already handled: at-least-once delivery, one effect
              throw err;
            }
            await accept(event, (matching) => subscription.handler(matching, trx));
          })
      : (event: EventEnvelope) => accept(event, (matching) => subscription.handler(matching));
    this.subscriptions.push({ queue: subscription.queue, patterns, handle });
    return this;
  }

  async start(): Promise<void> {
    if (this.stopping || !this.subscriptions.length) return;
    const { prefix } = this.options;
    const dlx = await ensureDeadLetter(this.broker, prefix);
    // One channel per subscription: a queue whose leader is unavailable holds up only its own events.
    for (const sub of this.subscriptions) {
      if (this.stopping) return;
      const exchange = `${prefix}.events`;
      // A private queue gets a new name from the broker on every connection.
      let queue = sub.queue ? `${prefix}.${sub.queue}` : '';
      const channel = await ManagedChannel.open(this.broker, {
        name: `events ${sub.queue ?? sub.patterns.join(',')}`,
        prefetch: 16,
        setup: async ({ channel: setup }) => {
          await declareEventsExchange(setup, prefix);
          queue = sub.queue
            ? await declareQuorumQueue(setup, `${prefix}.${sub.queue}`, { 'x-dead-letter-exchange': dlx })
            : (await setup.assertQueue('', { exclusive: true, autoDelete: true })).queue;
          for (const pattern of sub.patterns) await setup.bindQueue(queue, exchange, pattern);
        },
      });
      this.channels.push(channel);
      await channel.consume(
        () => queue,
        (delivery) => void this.handle(sub, delivery).then((outcome) => delivery.settle(outcome, outcome === 'requeue' ? RETRY_DELAY_MS : 0)),
        { legacy: { exchange, patterns: sub.patterns } },
      );
    }
  }

  /** Stops taking events; those being handled finish and are settled (the channels close with the connection). */
  stop(): void {
    this.stopping = true;
    for (const channel of this.channels) void channel.cancelConsumers();
  }

  private async handle(sub: Subscription, msg: Delivery): Promise<Settlement> {
    const { logger } = this.options;
    const event = parseEvent(msg.content);
    if (!event) {
      logger.error('unreadable event rejected to the dead-letter queue', { routingKey: msg.fields.routingKey });
      return 'dead-letter';
    }
    // Only the service that owns the subject may say what happened to it: a `user.deleted` comes from users.
    const sender = this.options.identity.senderOf(msg.properties.headers, eventFacts(event.id, event.type), msg.content);
    if (!sender || sender !== eventOwner(event.type)) {
      logger.error('unsigned or forged event rejected to the dead-letter queue', { type: event.type, eventId: event.id, sender: sender ?? 'unverified' });
      return 'dead-letter';
    }
    return runWithContext(contextFromHeaders(msg.properties.headers, `event:${event.id}`), async () => {
      try {
        await sub.handle(event);
        return 'ack';
      } catch (err) {
        // A failing database or handler: try again later rather than lose the event.
        logger.warn('event handling failed; will retry', { type: event.type, eventId: event.id, err: describeError(err).message });
        return 'requeue';
      }
    });
  }
}

function matchesPattern(type: string, pattern: string): boolean {
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) && !type.slice(pattern.length - 1).includes('.') : type === pattern;
}

function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventSchemas, type);
}

function parseEvent(content: Buffer): EventEnvelope | undefined {
  try {
    const envelope = envelopeSchema.safeParse(JSON.parse(content.toString('utf8')));
    if (!envelope.success || !isEventType(envelope.data.type)) return undefined;
    const { type } = envelope.data;
    const payload = eventSchemas[type].safeParse(envelope.data.payload);
    // The payload was parsed by the schema of `type`; TypeScript cannot tie the two together by itself.
    return payload.success ? ({ ...envelope.data, type, payload: payload.data } as EventEnvelope) : undefined;
  } catch {
    return undefined;
  }
}
