import { type Actor, AppError, type contracts, describeError, domainEvents, problem } from '@market/common';
import type { PaymentRecord } from '../data-access/payment-repository';
import { publicPayment } from './payment-view';
import type { PaymentsDeps } from './deps';
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

/**
 * Where a sale's refunds stand at the provider, recorded: the webhook's refund events and the
 * reconciler call this. A refund made at the provider's dashboard arrives here as well.
 */
export async function syncRefund(deps: PaymentsDeps, p: PaymentRecord): Promise<void> {
  if (!p.providerRef || (p.status !== 'succeeded' && p.status !== 'refunded')) return;
  const state = await deps.provider.refunds(p.providerRef);
  if (state.refundedAmount >= p.amountCents) {
    if (p.status === 'succeeded') await finishSaleRefund(deps, p);
    return;
  }
  if (state.pending) {
    if (p.refundStatus !== 'pending') await deps.payments.markRefundRequested(p.id);
    else await deps.payments.touch(p.id);
    return;
  }
  if (state.failure) await refundFailed(deps, p, state.failure);
  else if (state.refundedAmount > 0) deps.logger.warn('a partial refund was made at the provider; the payment stays succeeded', { paymentId: p.id, refundedAmount: state.refundedAmount });
}

/** The money went back: the payment becomes refunded (once, with its event), then its order. */
async function finishSaleRefund(deps: PaymentsDeps, p: PaymentRecord): Promise<Settled> {
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
async function refundOrder(deps: PaymentsDeps, p: PaymentRecord): Promise<contracts.Order> {
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

async function refundFailed(deps: PaymentsDeps, p: PaymentRecord, reason: string): Promise<void> {
  const won = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markRefundFailed(p.id, trx))) return false;
    await deps.outbox.publish(trx, 'payment.refund_failed', { payment: publicPayment({ ...p, refundStatus: 'failed' }), reason });
    return true;
  });
  if (!won) return;
  domainEvents.inc({ event: 'payment_refund_failed' });
  deps.logger.error('a refund failed at the provider: the buyer has not got the money back and a person must act', { paymentId: p.id, orderId: p.orderId, reason });
}

async function asItStands(deps: PaymentsDeps, id: string): Promise<Settled> {
  const p = await deps.payments.findById(id);
  if (!p) throw problem('not_found', 'The payment');
  return { payment: publicPayment(p), order: await deps.orders.get(p.orderId, buyerOf(p)) };
}
