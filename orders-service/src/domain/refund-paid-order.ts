import { domainEvents, type Knex } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';
import type { UnrefundableStatus } from './order-errors';
import { publicOrder } from './order-view';

/** What asking to refund one order came to. */
export type RefundOutcome =
  /** complete → refunded just now, its `order.refunded` event written in the same transaction. */
  | { kind: 'refunded'; order: OrderRecord }
  /** Refunded before: nothing changed and no second event. */
  | { kind: 'already_refunded'; order: OrderRecord }
  /** Never paid (pending, cancelled or expired): there is nothing to refund on the order. */
  | { kind: 'not_refundable'; order: OrderRecord; status: UnrefundableStatus }
  /** No such order, or not this buyer's. */
  | { kind: 'unknown' };

/**
 * The one code path of a refund, inside the caller's transaction: complete → refunded as one
 * conditional UPDATE of the buyer's order, and `order.refunded` through the outbox in the same
 * transaction. Of two refunds racing, one changes the row; the other reads the order as committed.
 */
export async function refundPaidOrder(deps: OrdersDeps, id: string, buyerId: string, trx: Knex.Transaction): Promise<RefundOutcome> {
  // Twice at most: a payment may complete the order between the UPDATE and the read; the read locks the
  // row, so the second UPDATE sees what was read.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await deps.orders.markRefunded(id, buyerId, trx)) {
      // The goods go with the money: every download link of the order stops working with this commit.
      await deps.downloadLinks.revokeOfOrder(id, trx);
      const order = (await deps.orders.findById(id, trx)) as OrderRecord;
      await deps.outbox.publish(trx, 'order.refunded', { order: publicOrder(order) });
      // Counted once the change is committed (not for an attempt rolled back, e.g. a deadlock retried).
      trx.executionPromise.then(() => domainEvents.inc({ event: 'order_refunded' }), () => undefined);
      return { kind: 'refunded', order };
    }
    const order = await deps.orders.findCurrent(id, trx);
    if (!order || order.buyerId !== buyerId) return { kind: 'unknown' };
    if (order.status === 'refunded') return { kind: 'already_refunded', order };
    if (order.status !== 'complete') return { kind: 'not_refundable', order, status: order.status };
  }
  throw new Error(`order ${id} is complete yet could not be refunded`);
}
