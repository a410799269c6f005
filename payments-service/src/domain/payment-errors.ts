import { AppError, type contracts } from '@market/common';

const NOT_PENDING_DETAIL: Record<contracts.Order['status'], string> = {
  pending: 'This order can no longer be paid: its checkout time is over. Please order again.',
  complete: 'This order has already been paid.',
  cancelled: 'This order was cancelled, so it cannot be paid.',
  expired: 'This order expired before it was paid. Please order again.',
  refunded: 'This order was paid and then refunded.',
};

/**
 * Every problem payments-service answers with. The statuses are the ones the gateway documents for
 * POST /payments (400, 402, 404, 409, 422, 429) and the coupon routes (403, 409), plus the 5xx
 * every route has.
 *
 * | status | code                     | when |
 * |--------|--------------------------|------|
 * | 400    | payment_method_required  | the amount after any coupon is above 0 and no paymentMethod was sent |
 * | 400    | coupon_invalid           | the coupon cannot be used: no such code, used up, or expired (one answer for all) |
 * | 400    | coupon_expiry_in_past    | a coupon is created with an expiresAt that has already passed |
 * | 402    | card_declined            | the provider declined the card; the order stays pending and payable |
 * | 403    | forbidden                | a coupon route called by someone who is not an admin |
 * | 404    | not_found                | the order does not exist or the caller is not its buyer |
 * | 409    | order_not_pending        | the order is complete, cancelled, expired or past its expiresAt |
 * | 409    | payment_in_progress      | another payment of this order (or this Idempotency-Key) is being processed |
 * | 409    | coupon_code_taken        | a coupon with this code exists |
 * | 422    | idempotency_key_reused   | the Idempotency-Key was already used with a different request (order, card or coupon) |
 * | 429    | too_many_coupon_attempts | the buyer tried COUPON_FAILURES_MAX unusable coupons within the window; `Retry-After` says when to try again |
 * | 502    | payment_not_collected    | the order was completed but the provider refused the capture (the authorization lapsed): no money taken, operators alerted |
 * | 502    | refund_failed            | the provider could not return the money of a refund; operators alerted (payment.refund_failed) |
 * | 503    | payment_outcome_unknown  | the order or the provider's answer could not be confirmed; the payment is settled in the background |
 * | 404    | not_found                | (refresh, refund) no such payment, or (refresh) not the caller's |
 * | 404    | payment_not_found        | the provider has no such intent: (sandbox 3-D Secure step) unknown, or the client secret does not match |
 * | 409    | payment_not_refundable   | a refund of a payment that did not succeed |
 * | 409    | payment_canceled         | the payment's intent was cancelled at the provider before it was completed; pay again |
 * | 400    | invalid_signature        | a webhook whose Stripe-Signature does not verify (wrong secret, altered body, older than 5 minutes) |
 * | 503    | webhooks_not_configured  | a webhook arrived and STRIPE_WEBHOOK_SECRET is not set |
 *
 * coupon_invalid is one problem for every unusable coupon, so that codes cannot be probed: 404
 * would say "no such code" and 409 "it exists, but not now", which is exactly what must not be
 * told apart. It is a 400 naming the couponCode field because, whichever the reason, the buyer's
 * next step is the same: change or drop the code. Retrying the same request does not help, which
 * is what a 409 would suggest.
 *
 * The 400s use their own codes rather than `validation_failed`: the RPC server dead-letters a
 * message that fails with `validation_failed`, which is meant for malformed messages, not for a
 * buyer who forgot a card.
 */
export const paymentErrors = {
  paymentMethodRequired: () =>
    new AppError(400, 'payment_method_required', 'A paymentMethod is needed to pay this order.', [
      { field: 'paymentMethod', message: 'is required unless a coupon covers the whole price' },
    ]),
  cardDeclined: (message: string) => new AppError(402, 'card_declined', message || 'Your card was declined.'),
  orderNotFound: () => new AppError(404, 'not_found', 'The order was not found.'),
  orderNotPending: (status: contracts.Order['status']) => new AppError(409, 'order_not_pending', NOT_PENDING_DETAIL[status]),
  paymentInProgress: () =>
    new AppError(409, 'payment_in_progress', 'A payment of this order is already being processed. Please check the order again in a moment.'),
  idempotencyKeyReused: () =>
    new AppError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request (order, paymentMethod or couponCode). Repeat that request to get its result, or use a new key.',
    ),
  paymentNotCollected: () =>
    new AppError(
      502,
      'payment_not_collected',
      'Your order is complete, but the payment could not be collected: the card authorization had expired. No money was taken; we will be in touch about paying for it.',
    ),
  paymentNotFound: () => new AppError(404, 'not_found', 'The payment was not found.'),
  notAdmin: () => new AppError(403, 'forbidden', 'Only an admin can refund a payment.'),
  notRefundable: (status: string) =>
    new AppError(409, 'payment_not_refundable', `Only a payment that succeeded can be refunded; this one is ${status}.`),
  paymentCanceled: () =>
    new AppError(409, 'payment_canceled', 'This payment was cancelled at the payment provider before it was completed. Please pay again.'),
  refundFailed: () => new AppError(502, 'refund_failed', 'The payment provider could not return the money. Our team has been alerted.'),
  webhooksNotConfigured: () => new AppError(503, 'webhooks_not_configured', 'Webhooks are not configured on this server.'),
  outcomeUnknown: () =>
    new AppError(
      503,
      'payment_outcome_unknown',
      'We could not confirm the payment yet. It will be settled automatically: either the order is completed with one charge or no money is kept. Please check the order in a minute.',
    ),
};

export const couponErrors = {
  notAdmin: () => new AppError(403, 'forbidden', 'Only an admin can manage coupons.'),
  /** Unknown, used up and expired alike: the same status, code and words, so the answer tells nothing apart. */
  invalid: () =>
    new AppError(400, 'coupon_invalid', 'This coupon code cannot be used. Check the code, or pay without it.', [
      { field: 'couponCode', message: 'is not a coupon that can be used now' },
    ]),
  tooManyAttempts: (retryAfterSeconds: number) =>
    new AppError(
      429,
      'too_many_coupon_attempts',
      'Too many coupon codes that could not be used. Please wait before trying a coupon again; Retry-After says how long. Paying without a coupon still works.',
      undefined,
      retryAfterSeconds,
    ),
  codeTaken: () => new AppError(409, 'coupon_code_taken', 'A coupon with this code already exists.'),
  expiryInPast: () =>
    new AppError(400, 'coupon_expiry_in_past', 'The coupon would already be expired.', [{ field: 'expiresAt', message: 'must be in the future' }]),
};

export const isUnusableCoupon = (err: unknown): boolean => err instanceof AppError && err.code === 'coupon_invalid';
