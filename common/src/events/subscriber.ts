import type { ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import type { ServiceIdentity } from '../auth';
import { eventOwner } from '../contracts/callers';
import { isDuplicateKey, type Knex } from '../db';
import { describeError } from '../errors';
import { runWithContext, type Logger } from '../logger';
import { type Broker, consumeWithLegacy, declareQuorumQueue, ensureDeadLetter, settleDelivery } from '../rpc/broker';
import { contextFromHeaders } from '../rpc/envelope';
import { eventSchemas, type EventType } from '../contracts/events';
import { declareEventsExchange, eventFacts, type EventEnvelope } from './outbox';

const envelopeSchema = z.object({ id: z.uuid(), type: z.string(), occurredAt: z.string(), payload: z.unknown() });

export type EventHandler = (event: EventEnvelope, trx: Knex.Transaction | undefined) => Promise<void>;

export interface SubscriptionOptions {
  /** A durable queue shared by the service's replicas; omit for a private, temporary queue per process. */
  queue?: string;
  patterns: string[];
  handler: EventHandler;
  /** With a database, each event id is handled once: it is recorded in the same transaction as the handling. */
  dedupe?: Knex;
}

const RETRY_DELAY_MS = 1000;

/** Consumes events; acks after handling, ignores duplicates, dead-letters what cannot be read. */
export class EventSubscriber {
  private readonly subscriptions: SubscriptionOptions[] = [];
  private stopping = false;

  constructor(
    private readonly broker: Broker,
    private readonly options: { prefix: string; logger: Logger; identity: ServiceIdentity },
  ) {}

  subscribe(subscription: SubscriptionOptions): this {
    this.subscriptions.push(subscription);
    return this;
  }

  async start(): Promise<void> {
    if (this.stopping || !this.subscriptions.length) return;
    const { prefix } = this.options;
    const dlx = await ensureDeadLetter(this.broker, prefix);
    // One setup per subscription: a queue whose leader is unavailable holds up only its own events.
    for (const sub of this.subscriptions) {
      await this.broker.onConnect(async (scope) => {
        if (this.stopping) return;
        const channel = await scope.channel();
        await channel.prefetch(16);
        const exchange = await declareEventsExchange(channel, prefix);
        const queue = sub.queue
          ? await declareQuorumQueue(channel, `${prefix}.${sub.queue}`, { 'x-dead-letter-exchange': dlx })
          : (await channel.assertQueue('', { exclusive: true, autoDelete: true })).queue;
        for (const pattern of sub.patterns) await channel.bindQueue(queue, exchange, pattern);
        const onMessage = (msg: ConsumeMessage): void => {
          void this.handle(sub, msg).then(
            (outcome) => {
              if (outcome === 'retry') setTimeout(() => settleDelivery(channel, msg, 'requeue'), RETRY_DELAY_MS).unref();
              else settleDelivery(channel, msg, outcome);
            },
            () => undefined,
          );
        };
        await consumeWithLegacy(scope, channel, queue, onMessage, { exchange, patterns: sub.patterns });
      }, `events ${sub.queue ?? sub.patterns.join(',')}`);
    }
  }

  stop(): void {
    this.stopping = true;
  }

  private async handle(sub: SubscriptionOptions, msg: ConsumeMessage): Promise<'ack' | 'dead-letter' | 'retry'> {
    const { logger } = this.options;
    const event = parseEvent(msg);
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
        if (!sub.dedupe) {
          await sub.handler(event, undefined);
          return 'ack';
        }
        await sub.dedupe.transaction(async (trx) => {
          try {
            await trx('processed_events').insert({ event_id: event.id, processed_at: new Date() });
          } catch (err) {
            if (isDuplicateKey(err)) return; // already handled: at-least-once delivery, one effect
            throw err;
          }
          await sub.handler(event, trx);
        });
        return 'ack';
      } catch (err) {
        // A failing database or handler: try again later rather than lose the event.
        logger.warn('event handling failed; will retry', { type: event.type, eventId: event.id, err: describeError(err).message });
        return 'retry';
      }
    });
  }
}

function parseEvent(msg: ConsumeMessage): EventEnvelope | undefined {
  try {
    const envelope = envelopeSchema.safeParse(JSON.parse(msg.content.toString('utf8')));
    if (!envelope.success || !(envelope.data.type in eventSchemas)) return undefined;
    const type = envelope.data.type as EventType;
    const payload = eventSchemas[type].safeParse(envelope.data.payload);
    return payload.success ? ({ ...envelope.data, type, payload: payload.data } as EventEnvelope) : undefined;
  } catch {
    return undefined;
  }
}
