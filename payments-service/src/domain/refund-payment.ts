import { type Actor, AppError, describeError, problem } from '@market/common';
import { publicPayment } from './payment-view';
import type { PaymentsDeps } from './deps';
import { finishSaleRefund, refundFailed, refundOrder } from './refund-outcomes';
import { buyerOf, isOutcomeUnknown, type Settled, stepKey, withRetries } from './settle-payment';

/**
 * An admin refunds a sale in full: POST /payments/{id}/refund. Idempotent: the provider's refund is
 * keyed by the payment, a full refund cannot happen twice whatever the key, and asking again about a
 * refunded payment answers it again.
 *
 * - The refund went through: the payment is `refunded` and payment.refunded is published in the same
 *   transaction; the order becomes `refunded` (orders.refund now, and orders-service also follows the
 *   event, so the order gets there even when that call fails). The listing stays sold.
 * - Still pending at the provider (some card refunds are): the payment shows refundStatus `pending`
 *   (the route answers 202); the webhook (charge.refunded, refund.updated) or the reconciler finishes
 *   it.
 * - Failed at the provider: refundStatus `failed`, payment.refund_failed published, 502 refund_failed.
 *   The admin may try again.
 *
 * The coupon's redemption is not given back: it was used for a sale.
 */
export async function refundPayment(deps: PaymentsDeps, admin: Actor, id: string): Promise<Settled> {
  if (admin.role !== 'admin') throw problem('forbidden', 'refundPayment');
  const p = await deps.payments.findById(id);
  if (!p) throw problem('not_found', 'The payment');
  if (p.status === 'refunded' && p.refundStatus === 'succeeded') return { payment: publicPayment(p), order: await refundOrder(deps, p) };
  if (p.status !== 'succeeded') throw problem('payment_not_refundable', p.status);
  if (!p.providerRef) return finishSaleRefund(deps, p); // a 100% coupon: nothing was charged, nothing to send back

  const providerRef = p.providerRef;
  await deps.payments.markRefundRequested(p.id);
  try {
    await withRetries(deps, p, (attempt) => deps.provider.refund(providerRef, stepKey(p, 'refund', attempt)));
  } catch (err) {
    if (err instanceof AppError && err.code === 'refund_pending') {
      deps.logger.info('refund started and pending at the provider', { paymentId: p.id });
      return asItStands(deps, p.id);
    }
    if (err instanceof AppError && err.code === 'refund_failed') {
      await refundFailed(deps, (await deps.payments.findById(p.id)) ?? p, String(describeError(err.cause ?? err).message));
      throw Object.assign(problem('refund_failed'), { cause: err });
    }
    if (isOutcomeUnknown(err)) {
      deps.logger.warn('the refund went unanswered; the reconciler checks it again', { paymentId: p.id, err: describeError(err).message });
      throw Object.assign(problem('payment_outcome_unknown'), { cause: err });
    }
    throw err;
  }
  return finishSaleRefund(deps, p);
}

async function asItStands(deps: PaymentsDeps, id: string): Promise<Settled> {
  const p = await deps.payments.findById(id);
  if (!p) throw problem('not_found', 'The payment');
  return { payment: publicPayment(p), order: await deps.orders.get(p.orderId, buyerOf(p)) };
}
