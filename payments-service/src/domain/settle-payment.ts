import { setTimeout as sleep } from 'node:timers/promises';
import { type Actor, AppError, type contracts, describeError, domainEvents } from '@market/common';
import { type FailOutcome, type PaymentRecord, publicPayment } from '../data-access/payment-repository';
import type { AuthorizeResult } from '../providers';
import type { PaymentsDeps } from './deps';
import { paymentErrors } from './payment-errors';

export interface Settled {
  payment: contracts.Payment;
  order: contracts.Order;
}

/**
 * orders.complete is conditional, so repeating it after an unanswered call is safe. Kept low: each
 * unanswered call costs a whole RPC timeout, and the reconciler carries on where this stops.
 */
const COMPLETE_ATTEMPTS = 2;
/** On top of the Stripe SDK's own retries, which reuse the same idempotency key as we do. */
const PROVIDER_ATTEMPTS = 3;
const RETRY_DELAYS_MS = [200, 1000];

/** Either the order is complete, or it cannot be, and `refusal` is what the buyer is told. */
type Decision = { completed: true; order: contracts.Order } | { completed: false; refusal: AppError };

/**
 * Drives a pending payment (which holds its order's claim) to its end. The one invariant: the
 * order ends complete with exactly one capture, or no money is kept. Money is only captured after
 * orders-service has completed the order, and an authorization is only let go once the order is
 * known to be uncompletable. When neither can be known (orders-service does not answer), the
 * payment stays pending and the reconciler resumes it later with the same idempotency keys.
 *
 * Used by a buyer's request and by the reconciler alike; every step can be repeated.
 */
export async function settlePayment(deps: PaymentsDeps, payment: PaymentRecord): Promise<Settled> {
  const providerRef = payment.amountCents > 0 ? (payment.providerRef ?? (await authorize(deps, payment))) : null;
  const decision = await decideOrder(deps, payment);
  if (decision.completed) return captureAndSucceed(deps, payment, providerRef, decision.order);
  return releaseAndFail(deps, payment, providerRef, decision.refusal);
}

/** The provider's idempotency key of one step of one payment: a repeat can never charge twice. */
const providerKey = (p: PaymentRecord, step: 'authorize' | 'capture' | 'cancel' | 'refund'): string => `order-${p.orderId}-payment-${p.id}-${step}`;

/** orders-service answers only the order's buyer; the role is irrelevant to it, so we never claim more. */
export const buyerOf = (p: PaymentRecord): Actor => ({ id: p.buyerId, role: 'user' });

async function authorize(deps: PaymentsDeps, p: PaymentRecord): Promise<string> {
  if (!p.paymentMethod) {
    await fail(deps, p, { forgetKey: true });
    throw paymentErrors.paymentMethodRequired();
  }
  let result: AuthorizeResult;
  try {
    result = await deps.provider.authorize({
      amountCents: p.amountCents,
      currency: p.currency,
      paymentMethod: p.paymentMethod,
      idempotencyKey: providerKey(p, 'authorize'),
      orderId: p.orderId,
    });
  } catch (err) {
    // No usable answer (provider down, or a request it refused). Nothing was captured; should an
    // authorization exist after all, it is never captured and lapses. The attempt is over, and a
    // retry under the same Idempotency-Key must run again rather than replay this error.
    await fail(deps, p, { forgetKey: true });
    throw err;
  }
  if (result.status === 'declined') {
    await fail(deps, p, { decline: { declineCode: result.declineCode, declineMessage: result.message } });
    domainEvents.inc({ event: 'payment_declined' });
    throw paymentErrors.cardDeclined(result.message);
  }
  await deps.payments.recordAuthorization(p.id, result.providerRef);
  return result.providerRef;
}

/**
 * Completes the order, or finds out for certain that it cannot be. "Complete" counts as ours: the
 * order's claim is held by this payment, and nothing else completes an order.
 */
async function decideOrder(deps: PaymentsDeps, p: PaymentRecord): Promise<Decision> {
  const buyer = buyerOf(p);
  let refused = false;
  for (let attempt = 1; attempt <= COMPLETE_ATTEMPTS; attempt++) {
    try {
      return { completed: true, order: await deps.orders.complete(p.orderId, buyer) };
    } catch (err) {
      if (err instanceof AppError && err.status === 409) {
        refused = true;
        break;
      }
      if (!isOutcomeUnknown(err) || attempt === COMPLETE_ATTEMPTS) break;
      deps.logger.warn('orders.complete did not answer; asking again', { paymentId: p.id, orderId: p.orderId, err: describeError(err).message });
      await deps.payments.touch(p.id);
      await sleep(RETRY_DELAYS_MS[attempt - 1] ?? 1000);
    }
  }
  let order: contracts.Order;
  try {
    await deps.payments.touch(p.id);
    order = await deps.orders.get(p.orderId, buyer);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) return { completed: false, refusal: paymentErrors.orderNotFound() };
    deps.logger.warn('order state unknown; the payment stays pending for the reconciler', { paymentId: p.id, orderId: p.orderId, err: describeError(err).message });
    throw paymentErrors.outcomeUnknown();
  }
  if (order.status === 'complete') return { completed: true, order };
  if (order.status !== 'pending' || refused) return { completed: false, refusal: paymentErrors.orderNotPending(order.status) };
  // Pending, and our completion was never answered: it may still be running, and releasing the
  // authorization now could leave a completed order unpaid. Only a later answer decides.
  throw paymentErrors.outcomeUnknown();
}

async function captureAndSucceed(deps: PaymentsDeps, p: PaymentRecord, providerRef: string | null, order: contracts.Order): Promise<Settled> {
  if (providerRef) {
    try {
      await withRetries(deps, p, () => deps.provider.capture(providerRef, providerKey(p, 'capture')));
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        deps.logger.error('capture failed for a completed order; the reconciler will retry it', { paymentId: p.id, orderId: p.orderId, err: describeError(err) });
        throw paymentErrors.outcomeUnknown();
      }
      // The provider refuses for good (e.g. the authorization lapsed): the order is complete and
      // unpaid, and only a person can sort that out.
      deps.logger.error('the provider refused to capture a completed order; it needs attention', { paymentId: p.id, orderId: p.orderId, err: describeError(err) });
      await fail(deps, p, {});
      throw err;
    }
  }
  const won = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markSucceeded(p.id, trx))) return false;
    await deps.outbox.publish(trx, 'payment.succeeded', { payment: publicPayment({ ...p, status: 'succeeded', providerRef }) });
    return true;
  });
  if (won) domainEvents.inc({ event: 'payment_succeeded' });
  return settledOutcome(deps, p.id, order);
}

/** The order cannot be completed: give back whatever was taken, then tell the buyer. */
async function releaseAndFail(deps: PaymentsDeps, p: PaymentRecord, providerRef: string | null, refusal: AppError): Promise<never> {
  if (providerRef) {
    try {
      await withRetries(deps, p, () => deps.provider.cancel(providerRef, providerKey(p, 'cancel')));
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'payment_intent_unexpected_state')) {
        // Still pending: the reconciler repeats the release. The buyer's answer is already certain.
        deps.logger.error('could not cancel the authorization of an uncompletable order; the reconciler will retry', { paymentId: p.id, err: describeError(err) });
        throw refusal;
      }
      await refund(deps, p, providerRef);
      throw refusal;
    }
  }
  await fail(deps, p, {});
  throw refusal;
}

/** The intent could not be cancelled because its money was captured: return it in full. */
async function refund(deps: PaymentsDeps, p: PaymentRecord, providerRef: string): Promise<void> {
  try {
    await withRetries(deps, p, () => deps.provider.refund(providerRef, providerKey(p, 'refund')));
  } catch (err) {
    deps.logger.error('could not refund money taken for an uncompletable order; the reconciler will retry', { paymentId: p.id, err: describeError(err) });
    return;
  }
  const won = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markRefunded(p.id, trx))) return false;
    if (p.couponCode) await deps.coupons.giveBack(p.couponCode, trx);
    await deps.outbox.publish(trx, 'payment.refunded', { payment: publicPayment({ ...p, status: 'refunded', providerRef }) });
    return true;
  });
  if (won) domainEvents.inc({ event: 'payment_refunded' });
}

/** pending → failed, releasing the order's claim and, in the same transaction, the coupon's redemption. */
async function fail(deps: PaymentsDeps, p: PaymentRecord, outcome: FailOutcome): Promise<void> {
  await deps.db.transaction(async (trx) => {
    if ((await deps.payments.markFailed(p.id, outcome, trx)) && p.couponCode) await deps.coupons.giveBack(p.couponCode, trx);
  });
}

/** What the payment ended as, whoever settled it (this call, or a reconciler running alongside). */
async function settledOutcome(deps: PaymentsDeps, id: string, order: contracts.Order): Promise<Settled> {
  const payment = await deps.payments.findById(id);
  if (payment?.status === 'succeeded') return { payment: publicPayment(payment), order };
  deps.logger.error('a payment for a completed order did not end as succeeded', { paymentId: id, status: payment?.status });
  throw paymentErrors.outcomeUnknown();
}

async function withRetries(deps: PaymentsDeps, p: PaymentRecord, step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isOutcomeUnknown(err) || attempt >= PROVIDER_ATTEMPTS) throw err;
      await deps.payments.touch(p.id);
      await sleep(RETRY_DELAYS_MS[attempt - 1] ?? 1000);
    }
  }
}

/** A 5xx (or a non-AppError) says nothing about whether the other side acted. */
function isOutcomeUnknown(err: unknown): boolean {
  return !(err instanceof AppError) || err.status >= 500;
}
