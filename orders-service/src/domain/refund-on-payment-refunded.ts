import type { contracts, Knex } from '@market/common';
import type { OrdersDeps } from './deps';
import { refundPaidOrder, type RefundOutcome } from './refund-paid-order';

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
