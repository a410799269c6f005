import { type Actor, AppError, type contracts, describeError, domainEvents, problem, retry } from '@market/common';
import type { FailOutcome, PaymentRecord, PaymentStatus } from '../data-access/payment-repository';
import { publicPayment } from './payment-view';
import { type AuthorizeRequest, type AuthorizeResult, PaymentOutcomeUnknown, type PaymentProvider } from '../providers';
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
/**
 * Attempts of a capture, cancel or refund, on top of the Stripe SDK's own retries of one request
 * (which reuse its key). Each further attempt uses a new key (stepKey): Stripe stores a 500 under a
 * key and replays it for 24 h, and these steps cannot happen twice to one intent whatever the key.
 */
const PROVIDER_ATTEMPTS = 3;
/** Waits between attempts of a step whose outcome was unknown: 200 ms, then 400 ms. */
const RETRY_BACKOFF = { baseMs: 200, maxMs: 1000 };

/** Either the order is complete, or it cannot be, and `refusal` is what the buyer is told. */
type Decision = { completed: true; order: contracts.Order } | { completed: false; refusal: AppError };

/**
 * Drives a pending payment (which holds its order's claim) to its end. The one invariant: the
 * order ends complete with exactly one capture, or no money is kept. Money is only captured after
 * orders-service has completed the order, and an authorization is only let go once the order is
 * known to be uncompletable. When neither can be known (orders-service, or the provider, does not
 * answer), the payment stays pending and the reconciler resumes it later (`resumed`): it first
 * looks for what an unanswered authorization left at the provider before it authorizes anew.
 *
 * Should the provider refuse the capture of a completed order (the authorization lapsed), the
 * payment ends `failed` and payment.capture_failed is published: see captureRefused.
 *
 * Used by a buyer's request and by the reconciler alike; every step can be repeated.
 */
export async function settlePayment(deps: PaymentsDeps, payment: PaymentRecord, opts: { resumed?: boolean } = {}): Promise<Settled> {
  let providerRef: string | null = null;
  if (payment.amountCents > 0) {
    const held: Held = payment.providerRef ? { status: 'authorized', providerRef: payment.providerRef } : await authorize(deps, payment, opts.resumed ?? false);
    if (held.status === 'requires_action') return awaitBuyer(deps, payment, held);
    providerRef = held.providerRef;
  }
  const decision = await decideOrder(deps, payment);
  if (decision.completed) return captureAndSucceed(deps, payment, providerRef, decision.order);
  return releaseAndFail(deps, payment, providerRef, decision.refusal);
}

type Held = Exclude<AuthorizeResult, { status: 'declined' }>;
type Step = 'authorize' | 'capture' | 'cancel' | 'refund';

/** The provider's idempotency key of one step of one payment: a repeat can never charge twice. */
const providerKey = (p: PaymentRecord, step: Step): string => `order-${p.orderId}-payment-${p.id}-${step}`;

/**
 * The key of one attempt of a capture, cancel or refund: the step's key first, then a new one per
 * retry, so that a retry is really attempted rather than answered with a 500 stored under the key.
 * Safe for these steps only: an intent is captured, cancelled or fully refunded once at most,
 * whatever the key. An authorization never gets a second key without a look first (authorize).
 */
export const stepKey = (p: PaymentRecord, step: Exclude<Step, 'authorize'>, attempt: number): string =>
  attempt === 1 ? providerKey(p, step) : `${providerKey(p, step)}-retry-${Date.now()}`;

/** orders-service answers only the order's buyer; the role is irrelevant to it, so we never claim more. */
export const buyerOf = (p: PaymentRecord): Actor => ({ id: p.buyerId, role: 'user' });

/**
 * Holds the payment's money at the provider and records where. A resumed payment (the reconciler)
 * may have been authorized by a request that never heard the answer: it first looks for that
 * authorization (by the order id) and uses it; only when the provider holds nothing for the order
 * does it authorize anew, under a new key (the first may have a 500 stored against it), and only
 * while the order can still be paid.
 */
async function authorize(deps: PaymentsDeps, p: PaymentRecord, resumed: boolean): Promise<Held> {
  if (!p.paymentMethod) {
    await fail(deps, p, { forgetKey: true });
    throw paymentErrors.paymentMethodRequired();
  }
  const req: AuthorizeRequest = {
    amountCents: p.amountCents,
    currency: p.currency,
    paymentMethod: p.paymentMethod,
    idempotencyKey: providerKey(p, 'authorize'),
    orderId: p.orderId,
    paymentId: p.id,
  };
  if (resumed) {
    const found = await unlessUnknown(deps, p, () => deps.provider.findAuthorization(req, new Date(p.createdAt)));
    if (found) {
      deps.logger.info('a resumed payment found its intent at the provider', { paymentId: p.id, providerRef: found.providerRef, status: found.status });
      if (found.status === 'authorized') await deps.payments.recordAuthorization(p.id, found.providerRef);
      return found;
    }
    await assertStillPayable(deps, p);
    req.idempotencyKey = `${providerKey(p, 'authorize')}-resumed-${Date.now()}`;
  }
  let result: AuthorizeResult;
  try {
    result = await unlessUnknown(deps, p, () => deps.provider.authorize(req));
  } catch (err) {
    if (isUnknownAuthorization(err)) throw err;
    // A clear refusal (a request the provider refused, or it could not be reached at all): nothing
    // is held. The attempt is over, and a retry under the same Idempotency-Key must run again
    // rather than replay this error.
    await fail(deps, p, { forgetKey: true });
    throw err;
  }
  if (result.status === 'declined') {
    await fail(deps, p, { decline: { declineCode: result.declineCode, declineMessage: result.message } });
    domainEvents.inc({ event: 'payment_declined' });
    throw problem('card_declined', result.message);
  }
  if (result.status === 'authorized') await deps.payments.recordAuthorization(p.id, result.providerRef);
  return result;
}

/**
 * The card needs its buyer (3-D Secure): the payment waits in requires_action, keeping the order's
 * claim, and the buyer is given what the browser needs to finish. The outcome arrives by the webhook,
 * the buyer's refresh or the reconciler, whichever first (syncPayment).
 */
async function awaitBuyer(deps: PaymentsDeps, p: PaymentRecord, held: Extract<Held, { status: 'requires_action' }>): Promise<Settled> {
  await deps.payments.markRequiresAction(p.id, held.providerRef);
  const now = await deps.payments.findById(p.id);
  if (now?.status !== 'requires_action') throw problem('payment_in_progress');
  domainEvents.inc({ event: 'payment_requires_action' });
  return { payment: publicPayment(now, nextActionOf(deps.provider, held.clientSecret)), order: await deps.orders.get(p.orderId, buyerOf(p)) };
}

/** What the buyer's browser does next: Stripe.js with Stripe, the sandbox's own step without it. */
export const nextActionOf = (provider: Pick<PaymentProvider, 'name'>, clientSecret: string): NonNullable<contracts.Payment['nextAction']> => ({
  type: provider.name === 'stripe' ? 'use_stripe_sdk' : 'sandbox_authenticate',
  clientSecret,
});

/**
 * Runs a provider call whose answer may be unknown. Unknown (PaymentOutcomeUnknown, or anything that
 * is no AppError): money may be held, so the payment is neither failed nor its key forgotten — it
 * stays pending, and the reconciler looks for what the provider holds (findAuthorization). The buyer
 * is told the payment is being settled (503).
 */
async function unlessUnknown<T>(deps: PaymentsDeps, p: PaymentRecord, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isProviderOutcomeUnknown(err)) throw err;
    deps.logger.warn('the provider gave no clear answer to the authorization; the payment stays pending for the reconciler', {
      paymentId: p.id,
      orderId: p.orderId,
      err: describeError(err).message,
    });
    throw Object.assign(problem('payment_outcome_unknown'), { cause: err });
  }
}

const isProviderOutcomeUnknown = (err: unknown): boolean => err instanceof PaymentOutcomeUnknown || !(err instanceof AppError);
const isUnknownAuthorization = (err: unknown): boolean => err instanceof AppError && err.code === 'payment_outcome_unknown';

/** A resumed payment about to authorize anew: only while its order can still be paid. */
async function assertStillPayable(deps: PaymentsDeps, p: PaymentRecord): Promise<void> {
  let order: contracts.Order;
  try {
    order = await deps.orders.get(p.orderId, buyerOf(p));
  } catch (err) {
    if (err instanceof AppError && err.status === 404) {
      await fail(deps, p, {});
      throw problem('not_found', 'The order');
    }
    throw Object.assign(problem('payment_outcome_unknown'), { cause: err });
  }
  if (order.status === 'pending' && Date.parse(order.expiresAt) > Date.now()) return;
  // Nothing is held for it (findAuthorization said so): the payment ends here, without money.
  await fail(deps, p, {});
  throw problem('order_not_pending', 'atPayment', order.status);
}

/**
 * Completes the order, or finds out for certain that it cannot be. "Complete" counts as ours: the
 * order's claim is held by this payment, and nothing else completes an order.
 */
async function decideOrder(deps: PaymentsDeps, p: PaymentRecord): Promise<Decision> {
  const buyer = buyerOf(p);
  let refused = false;
  try {
    const completed = await retry(() => deps.orders.complete(p.orderId, buyer), {
      maxAttempts: COMPLETE_ATTEMPTS,
      ...RETRY_BACKOFF,
      isFinal: (err) => !isOutcomeUnknown(err),
      beforeRetry: async (err) => {
        deps.logger.warn('orders.complete did not answer; asking again', { paymentId: p.id, orderId: p.orderId, err: describeError(err).message });
        await deps.payments.touch(p.id);
      },
    });
    return { completed: true, order: completed };
  } catch (err) {
    // Any other answer, or none, is settled by reading the order below.
    refused = err instanceof AppError && err.status === 409;
  }
  let order: contracts.Order;
  try {
    await deps.payments.touch(p.id);
    order = await deps.orders.get(p.orderId, buyer);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) return { completed: false, refusal: problem('not_found', 'The order') };
    deps.logger.warn('order state unknown; the payment stays pending for the reconciler', { paymentId: p.id, orderId: p.orderId, err: describeError(err).message });
    throw problem('payment_outcome_unknown');
  }
  if (order.status === 'complete') return { completed: true, order };
  if (order.status !== 'pending' || refused) return { completed: false, refusal: problem('order_not_pending', 'atPayment', order.status) };
  // Pending, and our completion was never answered: it may still be running, and releasing the
  // authorization now could leave a completed order unpaid. Only a later answer decides.
  throw problem('payment_outcome_unknown');
}

async function captureAndSucceed(deps: PaymentsDeps, p: PaymentRecord, providerRef: string | null, order: contracts.Order): Promise<Settled> {
  if (providerRef) {
    try {
      await withRetries(deps, p, (attempt) => deps.provider.capture(providerRef, stepKey(p, 'capture', attempt)));
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        deps.logger.error('capture failed for a completed order; the reconciler will retry it', { paymentId: p.id, orderId: p.orderId, err: describeError(err) });
        throw problem('payment_outcome_unknown');
      }
      return captureRefused(deps, p, providerRef, err);
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

/**
 * The provider refuses for good to capture a completed order: the authorization lapsed (Stripe
 * cancels an uncaptured intent once its hold expires, or it was cancelled at Stripe) or the charge
 * expired for capture. The order is complete — orders-service has no way back from that, and
 * nothing here may take money the buyer did not authorize — and no money was taken.
 *
 * The consistent state chosen: the payment is `failed` (failure_reason capture_refused; the coupon's
 * redemption is given back as for any failed payment) and, in the same transaction,
 * payment.capture_failed is published with the payment and the provider's reason, so that whoever
 * collects the money or reverses the sale learns of it. It is also logged as an error and counted
 * (market_domain_events_total{event="payment_capture_failed"}) for alerting. The buyer is told that
 * the order is complete but its payment could not be collected (502 payment_not_collected), and a
 * repeat under the same Idempotency-Key gets that answer again.
 */
async function captureRefused(deps: PaymentsDeps, p: PaymentRecord, providerRef: string, err: unknown): Promise<never> {
  const reason = err instanceof AppError ? err.code : 'capture_refused';
  deps.logger.error('the provider refused to capture a completed order: it is complete and unpaid, and needs a person', {
    paymentId: p.id,
    orderId: p.orderId,
    providerRef,
    reason,
    err: describeError(err),
  });
  const won = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markFailed(p.id, { failureReason: 'capture_refused' }, trx))) return false;
    if (p.couponCode) await deps.coupons.giveBack(p.couponCode, trx);
    await deps.outbox.publish(trx, 'payment.capture_failed', { payment: publicPayment({ ...p, status: 'failed', providerRef }), reason });
    return true;
  });
  if (won) domainEvents.inc({ event: 'payment_capture_failed' });
  throw Object.assign(problem('payment_not_collected'), { cause: err });
}

/** The order cannot be completed: give back whatever was taken, then tell the buyer. */
async function releaseAndFail(deps: PaymentsDeps, p: PaymentRecord, providerRef: string | null, refusal: AppError): Promise<never> {
  if (providerRef) {
    try {
      await cancelIntent(deps, p, providerRef);
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
    await withRetries(deps, p, (attempt) => deps.provider.refund(providerRef, stepKey(p, 'refund', attempt)));
  } catch (err) {
    // A refund still pending at the provider is not done: the payment stays pending until it is.
    if (err instanceof AppError && err.code === 'refund_pending') {
      deps.logger.warn('the refund of an uncompletable order is still pending; the reconciler will check it again', { paymentId: p.id });
      return;
    }
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

/**
 * pending or requires_action (or only those in `from`) → failed, releasing the order's claim and, in
 * the same transaction, the coupon's redemption. True for the one caller that made the change.
 */
export async function fail(deps: PaymentsDeps, p: PaymentRecord, outcome: FailOutcome, from?: readonly PaymentStatus[]): Promise<boolean> {
  return deps.db.transaction(async (trx) => {
    if (!(await deps.payments.markFailed(p.id, outcome, trx, from))) return false;
    if (p.couponCode) await deps.coupons.giveBack(p.couponCode, trx);
    return true;
  });
}

/** Lets an intent's hold go (cancel), retried under a new key after an unclear answer. */
export async function cancelIntent(deps: PaymentsDeps, p: PaymentRecord, providerRef: string): Promise<void> {
  await withRetries(deps, p, (attempt) => deps.provider.cancel(providerRef, stepKey(p, 'cancel', attempt)));
}

/** What the payment ended as, whoever settled it (this call, or a reconciler running alongside). */
async function settledOutcome(deps: PaymentsDeps, id: string, order: contracts.Order): Promise<Settled> {
  const payment = await deps.payments.findById(id);
  if (payment?.status === 'succeeded') return { payment: publicPayment(payment), order };
  deps.logger.error('a payment for a completed order did not end as succeeded', { paymentId: id, status: payment?.status });
  throw problem('payment_outcome_unknown');
}

/** A provider step, tried again only while its outcome is unknown; `attempt` counts from 1 (stepKey's). */
export async function withRetries(deps: PaymentsDeps, p: PaymentRecord, step: (attempt: number) => Promise<void>): Promise<void> {
  await retry((_timeoutMs, attempt) => step(attempt + 1), {
    maxAttempts: PROVIDER_ATTEMPTS,
    ...RETRY_BACKOFF,
    isFinal: (err) => !isOutcomeUnknown(err),
    // Keeps the reconciler away from a payment this call is still working on.
    beforeRetry: () => deps.payments.touch(p.id),
  });
}

/** A 5xx (or a non-AppError) says nothing about whether the other side acted. */
export function isOutcomeUnknown(err: unknown): boolean {
  return !(err instanceof AppError) || err.status >= 500;
}
