import { type Actor, type contracts, problem, transact } from '@market/common';
import type { OrdersDeps } from './deps';
import { publicOrder } from './order-view';
import { refundPaidOrder } from './refund-paid-order';

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
      throw problem('order_not_refundable', outcome.status);
    case 'unknown':
      throw problem('not_found', 'The order');
  }
}
