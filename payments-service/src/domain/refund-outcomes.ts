import { type contracts, describeError, domainEvents, problem } from '@market/common';
import type { PaymentRecord } from '../data-access/payment-repository';
import type { PaymentsDeps } from './deps';
import { publicPayment } from './payment-view';
import { buyerOf, type Settled } from './settle-payment';

/** The money went back: the payment becomes refunded (once, with its event), then its order. */
export async function finishSaleRefund(deps: PaymentsDeps, p: PaymentRecord): Promise<Settled> {
  const won = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markSaleRefunded(p.id, trx))) return false;
    await deps.outbox.publish(trx, 'payment.refunded', { payment: publicPayment({ ...p, status: 'refunded', refundStatus: 'succeeded' }) });
    return true;
  });
  if (won) {
    domainEvents.inc({ event: 'payment_refunded' });
    deps.logger.info('sale refunded', { paymentId: p.id, orderId: p.orderId });
  }
  const refunded = await deps.payments.findById(p.id);
  if (!refunded) throw problem('not_found', 'The payment');
  return { payment: publicPayment(refunded), order: await refundOrder(deps, refunded) };
}

/** The order follows its payment. orders-service also follows payment.refunded, so a failure here only delays the answer's order. */
export async function refundOrder(deps: PaymentsDeps, p: PaymentRecord): Promise<contracts.Order> {
  try {
    return await deps.orders.refund(p.orderId, buyerOf(p));
  } catch (err) {
    deps.logger.warn('orders.refund failed; the order follows payment.refunded', { paymentId: p.id, orderId: p.orderId, err: describeError(err).message });
    try {
      return await deps.orders.get(p.orderId, buyerOf(p));
    } catch {
      throw Object.assign(problem('payment_outcome_unknown'), { cause: err });
    }
  }
}

export async function refundFailed(deps: PaymentsDeps, p: PaymentRecord, reason: string): Promise<void> {
  const won = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markRefundFailed(p.id, trx))) return false;
    await deps.outbox.publish(trx, 'payment.refund_failed', { payment: publicPayment({ ...p, refundStatus: 'failed' }), reason });
    return true;
  });
  if (!won) return;
  domainEvents.inc({ event: 'payment_refund_failed' });
  deps.logger.error('a refund failed at the provider: the buyer has not got the money back and a person must act', { paymentId: p.id, orderId: p.orderId, reason });
}
