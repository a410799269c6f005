import { type Actor, type contracts, domainEvents, type Knex, transact } from '@market/common';
import { type OrderRecord, publicOrder } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';
import { orderErrors, type UnrefundableStatus } from './order-errors';

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
 * Internal, for payments-service once a complete order's payment was refunded: complete → refunded,
 * only for the order's buyer, whose actor payments-service forwards (anyone else's order is "not
 * found", as for completeOrder). Idempotent: an order already refunded is returned as it is, with no
 * second `order.refunded`; an order that was never paid is a 409 order_not_refundable.
 *
 * The listing stays `sold` and listings-service is not asked anything; the buyer's access to the goods
 * ends with the refund (its download links are revoked, and GET /orders/{id}/goods answers 409).
 * Nothing is reopened either (no new hold, no waiting list).
 * A sold mark listings-service had not yet confirmed is still retried by the sweep for a refunded order.
 *
 * The `payment.refunded` event makes the same change (refundOnPaymentRefunded), so the order is
 * refunded even when this call is never made or fails; whichever comes second changes nothing.
 */
export async function refundOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  // Another buyer's order, or none, comes back as `unknown` from the one code path: 404 either way.
  const outcome = await transact(deps.db, (trx) => refundPaidOrder(deps, id, buyer.id, trx));
  switch (outcome.kind) {
    case 'refunded':
    case 'already_refunded':
      return publicOrder(outcome.order);
    case 'not_refundable':
      throw orderErrors.notRefundable(outcome.status);
    case 'unknown':
      throw orderErrors.notFound();
  }
}

/**
 * The `payment.refunded` event, in the transaction that records it as handled: the payment's order, if
 * complete, is refunded on behalf of its own buyer, exactly as refundOrder does. The event is also
 * published when money taken for an order that could NOT be completed was given back; that order is
 * pending, cancelled or expired, and the event is acknowledged without any change (not an error: a
 * retry could never change the answer).
 */
export async function refundOnPaymentRefunded(deps: OrdersDeps, payment: contracts.Payment, trx: Knex.Transaction): Promise<RefundOutcome> {
  const fields = { orderId: payment.orderId, paymentId: payment.id };
  const order = await deps.orders.findById(payment.orderId, trx);
  if (!order) {
    deps.logger.warn('payment.refunded for an order this service does not know: ignored', fields);
    return { kind: 'unknown' };
  }
  const outcome = await refundPaidOrder(deps, order.id, order.buyerId, trx);
  if (outcome.kind === 'not_refundable') {
    deps.logger.info('payment.refunded for an order that was never completed (its money was given back): the order is left as it is', { ...fields, status: outcome.status });
  }
  return outcome;
}

/**
 * The one code path of a refund, inside the caller's transaction: complete → refunded as one
 * conditional UPDATE of the buyer's order, and `order.refunded` through the outbox in the same
 * transaction. Of two refunds racing, one changes the row; the other reads the order as committed.
 */
async function refundPaidOrder(deps: OrdersDeps, id: string, buyerId: string, trx: Knex.Transaction): Promise<RefundOutcome> {
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
