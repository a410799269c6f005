import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import { type Broker, consumeWithLegacy, contextFromHeaders, contextHeaders, currentContext, declareQuorumQueue, describeError, ensureDeadLetter, type Logger, quorumQueue, runWithContext, settleDelivery } from '@market/common';
import type { ExpiryScheduler, OrdersDeps } from '../domain/deps';
import { expireOrder } from '../domain/expire-order';
import { backgroundBudgetMs } from '../domain/listing-sync';

/**
 * The queue names are part of the deployment (the test stack deletes them by these names). The TTL is in
 * the wait queue's name because RabbitMQ refuses to redeclare a queue with other arguments: changing
 * ORDER_TTL_SECONDS makes a new queue, and the old one still delivers its messages on time. Each hold
 * length (ORDER_TTL_SECONDS, WAITLIST_HOLD_SECONDS) has its own wait queue; all feed one expired queue.
 */
export function expiryQueues(prefix: string, ttlSeconds: number): { wait: string; expired: string } {
  return { wait: quorumQueue(`${prefix}.orders.expiry-wait.${ttlSeconds}s`), expired: quorumQueue(`${prefix}.orders.expired`) };
}

const messageSchema = z.object({ orderId: z.uuid() });

const PREFETCH = 16;
const RETRY_DELAY_MS = 1000;
const CONFIRM_TIMEOUT_MS = 5000;
/** Expiry messages kept while the broker is away; beyond that the sweep expires the orders. */
const MAX_UNSENT = 10_000;

interface UnsentExpiry {
  holdSeconds: number;
  /** When the hold ends (this process's clock): a message sent late carries only what is left. */
  dueAt: number;
  headers: Record<string, string>;
}
/**
 * A message may come out of the wait queue a little before expires_at (the broker's clock and ms
 * rounding against the database's): wait for the rest rather than end a hold early. Much earlier means
 * something is off; the sweep expires the order in time then, without holding a prefetch slot for minutes.
 */
const MAX_EARLY_WAIT_MS = 30_000;
const MAX_WAIT_ROUNDS = 5;

type Outcome = 'ack' | 'retry' | 'abandon';

/**
 * The hold's clock, in RabbitMQ. Each new order puts one persistent `{ orderId }` on a wait queue that
 * nobody consumes, whose uniform `x-message-ttl` is the hold; when it runs out RabbitMQ dead-letters
 * it (default exchange, routing key = the expired queue) to the queue consumed here. Uniform TTL per
 * queue, because RabbitMQ only expires messages at the head of a queue: per-message TTLs could leave a
 * short one stuck behind a long one. The messages wait in durable queues while this service is down.
 */
export class OrderExpiry implements ExpiryScheduler {
  private publisher: ConfirmChannel | undefined;
  /** Expiry messages not yet confirmed by the broker, by order id (sent when the publisher is back). */
  private readonly unsent = new Map<string, UnsentExpiry>();
  private sending: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private consumer: { channel: Channel; tags: string[] } | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: (completed: boolean) => void }>();
  private readonly queues: { waits: ReadonlyMap<number, string>; expired: string };
  private readonly logger: Logger;

  constructor(
    private readonly broker: Broker,
    private readonly deps: OrdersDeps,
    /** `holdSeconds`: every hold length an order may have (a checkout's, a hand-over's). */
    private readonly options: { prefix: string; holdSeconds: readonly number[] },
  ) {
    this.queues = {
      waits: new Map(options.holdSeconds.map((seconds) => [seconds, expiryQueues(options.prefix, seconds).wait])),
      expired: expiryQueues(options.prefix, options.holdSeconds[0] ?? 0).expired,
    };
    this.logger = deps.logger;
  }

  async start(): Promise<void> {
    const dlx = await ensureDeadLetter(this.broker, this.options.prefix);
    const declareExpired = (channel: Channel) => declareQuorumQueue(channel, this.queues.expired, { 'x-dead-letter-exchange': dlx });
    await this.broker.onConnect(async (scope) => {
      if (this.stopping) return;
      const publisher = await scope.confirmChannel();
      // Declared before the wait queue: a message dead-lettered to a queue that does not exist is lost.
      // Its own dead-letter exchange keeps messages it cannot read, like every other queue here.
      await declareExpired(publisher);
      for (const [seconds, wait] of this.queues.waits) {
        await declareQuorumQueue(publisher, wait, {
          'x-message-ttl': seconds * 1000,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': this.queues.expired,
          // At-least-once: an expired message stays in the wait queue until the expired queue has
          // confirmed it, so an expiry is not lost while that queue has no leader (RabbitMQ 3.10+).
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        });
      }
      this.publisher = publisher;
      void this.sendUnsent();
      return () => {
        if (this.publisher === publisher) this.publisher = undefined;
      };
    }, 'order expiry publisher');
    await this.broker.onConnect(async (scope) => {
      if (this.stopping) return;
      const channel = await scope.channel();
      await channel.prefetch(PREFETCH);
      await declareExpired(channel);
      // Holds that were waiting in the classic queues of an earlier release still expire, on time.
      const tags = await consumeWithLegacy(scope, channel, this.queues.expired, (msg: ConsumeMessage) => this.track(this.handle(channel, msg)));
      const consumer = { channel, tags };
      this.consumer = consumer;
      return () => {
        if (this.consumer === consumer) this.consumer = undefined;
      };
    }, 'order expiry consumer');
  }

  /**
   * Starts the hold's clock for a committed order. Never throws. While the broker is away (or does not
   * confirm) the message waits here, bounded, and is sent as soon as the publisher is back, with what is
   * left of the hold as its TTL; only if this process stops first does the sweep expire the order.
   */
  async schedule(orderId: string, holdSeconds: number): Promise<void> {
    if (!this.queues.waits.has(holdSeconds)) {
      this.logger.error('expiry message not published: no wait queue for this hold length; the sweep will expire the order', { orderId, holdSeconds });
      return;
    }
    const message: UnsentExpiry = { holdSeconds, dueAt: Date.now() + holdSeconds * 1000, headers: contextHeaders(currentContext()) };
    const channel = this.publisher;
    if (channel && !this.unsent.size) {
      try {
        await this.publish(channel, orderId, message);
        return;
      } catch (err) {
        this.logger.warn('expiry message not confirmed by the broker; it will be sent again', { orderId, err: describeError(err).message });
      }
    }
    if (this.unsent.size >= MAX_UNSENT) {
      this.logger.error('expiry message not published: too many are waiting for the broker; the sweep will expire the order', { orderId });
      return;
    }
    this.unsent.set(orderId, message);
    void this.sendUnsent();
  }

  /** Sends every message still waiting; those the broker does not confirm wait for the next try. */
  private async sendUnsent(): Promise<void> {
    while (this.sending) await this.sending;
    if (!this.unsent.size) return;
    this.sending = (async () => {
      for (const [orderId, message] of [...this.unsent]) {
        const channel = this.publisher;
        if (!channel) break;
        try {
          await this.publish(channel, orderId, message);
          this.unsent.delete(orderId);
        } catch (err) {
          this.logger.warn('expiry message not confirmed by the broker yet; it will be sent again', { orderId, err: describeError(err).message });
          break;
        }
      }
      if (this.unsent.size && !this.stopping) {
        this.logger.warn('expiry messages waiting for the broker', { waiting: this.unsent.size });
        clearTimeout(this.retry);
        this.retry = setTimeout(() => void this.sendUnsent(), RETRY_DELAY_MS);
        this.retry.unref();
      }
    })().finally(() => (this.sending = undefined));
    return this.sending;
  }

  private async publish(channel: ConfirmChannel, orderId: string, message: UnsentExpiry): Promise<void> {
    const queue = this.queues.waits.get(message.holdSeconds) as string;
    const left = message.dueAt - Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms`)), CONFIRM_TIMEOUT_MS);
        channel.sendToQueue(
          queue,
          Buffer.from(JSON.stringify({ orderId })),
          {
            persistent: true,
            contentType: 'application/json',
            messageId: orderId,
            headers: message.headers,
            // Sent late (after an outage): only what is left of the hold, not the whole of it again.
            ...(left < message.holdSeconds * 1000 - 1000 ? { expiration: String(Math.max(1, left)) } : {}),
          },
          (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        );
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops consuming, lets expiries in progress finish; messages still waiting go back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    if (this.unsent.size) this.logger.warn('expiry messages not sent before stopping; the sweep will expire their orders', { waiting: this.unsent.size });
    const consumer = this.consumer;
    if (consumer) for (const tag of consumer.tags) await consumer.channel.cancel(tag).catch(() => undefined);
    for (const wait of this.waits) {
      clearTimeout(wait.timer);
      wait.resolve(false);
    }
    this.waits.clear();
    await Promise.allSettled([...this.inFlight]);
    const publisher = this.publisher;
    this.consumer = undefined;
    this.publisher = undefined;
    // Closing the channel returns every unacknowledged message to the queue for the next consumer.
    await consumer?.channel.close().catch(() => undefined);
    await publisher?.close().catch(() => undefined);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(channel: Channel, msg: ConsumeMessage): Promise<void> {
    const parsed = parseMessage(msg);
    if (!parsed) {
      this.logger.error('unreadable expiry message rejected to the dead-letter queue', { messageId: msg.properties.messageId });
      settleDelivery(channel, msg, 'dead-letter');
      return;
    }
    const outcome = await runWithContext(contextFromHeaders(msg.properties.headers, `expiry:${parsed.orderId}`), () => this.expireWhenDue(parsed.orderId));
    if (outcome === 'ack') settleDelivery(channel, msg, 'ack');
    // Like the event subscriber: a database or broker hiccup is retried after a pause, not dropped.
    else if (outcome === 'retry') setTimeout(() => settleDelivery(channel, msg, 'requeue'), RETRY_DELAY_MS).unref();
    // 'abandon' (shutting down): left unacknowledged; closing the channel requeues it.
  }

  private async expireWhenDue(orderId: string): Promise<Outcome> {
    try {
      for (let round = 0; round < MAX_WAIT_ROUNDS; round++) {
        const outcome = await expireOrder(this.deps, orderId, backgroundBudgetMs(this.deps));
        switch (outcome.kind) {
          case 'expired':
          case 'settled':
            return 'ack';
          case 'unknown':
            this.logger.warn('expiry message for an unknown order acknowledged', { orderId });
            return 'ack';
          case 'not_due':
            if (outcome.msLeft > MAX_EARLY_WAIT_MS) {
              this.logger.warn('expiry message arrived long before the hold ends; the sweep will expire the order', { orderId, msLeft: outcome.msLeft });
              return 'ack';
            }
            // A few ms more than needed: expires_at is compared with the database clock to the millisecond.
            if (!(await this.wait(outcome.msLeft + 5))) return 'abandon';
        }
      }
      return 'retry';
    } catch (err) {
      this.logger.warn('order expiry failed; will retry', { orderId, err: describeError(err).message });
      return 'retry';
    }
  }

  /** Resolves true after `ms`, or false at once when the service stops. */
  private wait(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.waits.delete(entry);
          resolve(true);
        }, ms),
        resolve,
      };
      this.waits.add(entry);
    });
  }
}

function parseMessage(msg: ConsumeMessage): { orderId: string } | undefined {
  try {
    const parsed = messageSchema.safeParse(JSON.parse(msg.content.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
