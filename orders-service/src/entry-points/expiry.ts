import { z } from 'zod';
import { type Broker, DelayedMessages, describeError, quorumQueue } from '@market/common';
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

const expiryMessage = z.object({ orderId: z.uuid() });
export type OrderExpiries = DelayedMessages<typeof expiryMessage>;

/** The hold's clock, in RabbitMQ: one delayed `{ orderId }` per hold, due when the hold ends. */
export function openOrderExpiries(broker: Broker, options: { prefix: string; holdSeconds: readonly number[]; logger: OrdersDeps['logger'] }): Promise<OrderExpiries> {
  const [first = 0] = options.holdSeconds;
  return DelayedMessages.open(broker, {
    name: 'order expiry',
    prefix: options.prefix,
    waitQueues: new Map(options.holdSeconds.map((seconds) => [seconds * 1000, expiryQueues(options.prefix, seconds).wait])),
    dueQueue: expiryQueues(options.prefix, first).expired,
    schema: expiryMessage,
    logger: options.logger,
    // Beyond this many holds waiting for the broker, the sweep expires the orders.
    maxBuffered: 10_000,
  });
}

/** What the domain calls after committing a hold. Never throws: the sweep is the backstop. */
export function expiryScheduler(expiries: OrderExpiries, logger: OrdersDeps['logger']): ExpiryScheduler {
  return {
    async schedule(orderId, holdSeconds) {
      const confirmed = expiries.schedule({ orderId }, holdSeconds * 1000, { messageId: orderId }).catch((err: unknown) => {
        logger.error('expiry message not published; the sweep will expire the order', { orderId, holdSeconds, err: describeError(err).message });
      });
      // While the broker is away the message waits in the channel; the request that made the hold does not.
      if (expiries.ready) await confirmed;
    },
  };
}

/**
 * Expires each order whose message is due. A message may come out a little before expires_at (the
 * broker's clock and ms rounding against the database's): the rest is waited for rather than ending a
 * hold early; much earlier, the sweep expires the order in time.
 */
export function consumeOrderExpiries(expiries: OrderExpiries, deps: OrdersDeps): Promise<void> {
  return expiries.consume(async ({ orderId }) => {
    const outcome = await expireOrder(deps, orderId, backgroundBudgetMs(deps));
    switch (outcome.kind) {
      case 'expired':
      case 'settled':
        return 'done';
      case 'unknown':
        deps.logger.warn('expiry message for an unknown order acknowledged', { orderId });
        return 'done';
      case 'not_due':
        // A few ms more than needed: expires_at is compared with the database clock to the millisecond.
        return { notDueForMs: outcome.msLeft + 5 };
    }
  });
}
