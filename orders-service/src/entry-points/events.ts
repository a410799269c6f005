import type { EventSubscriber } from '@market/common';
import type { OrdersDeps } from '../domain/deps';
import { refundOnPaymentRefunded } from '../domain/refund-on-payment-refunded';

/**
 * What other services announce that changes an order. One durable queue per concern, shared by the
 * replicas, so an event published while every replica was down is handled once they are back; each
 * event id is handled once, in the same transaction as its change.
 */
export function subscribeOrders(events: EventSubscriber, deps: OrdersDeps): void {
  // payments-service also calls orders.refund; this is the way the refund reaches the order when that
  // call is never made or fails. An order that was never completed is left alone (acknowledged).
  events.subscribe({
    queue: 'orders.payment-refunded',
    patterns: ['payment.refunded'],
    dedupe: deps.db,
    handler: async (event, trx) => {
      await refundOnPaymentRefunded(deps, event.payload.payment, trx);
    },
  });
}
