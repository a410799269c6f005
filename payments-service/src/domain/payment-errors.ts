import { AppError, type contracts } from '@market/common';

const NOT_PENDING_DETAIL: Record<contracts.Order['status'], string> = {
  pending: 'This order can no longer be paid: its checkout time is over. Please order again.',
  complete: 'This order has already been paid.',
  cancelled: 'This order was cancelled, so it cannot be paid.',
  expired: 'This order expired before it was paid. Please order again.',
};

/**
 * Every problem payments-service answers with. The statuses stay within what the gateway documents
 * for POST /payments (400, 402, 404, 409) and the coupon routes (403, 409), plus the 5xx every
 * route has; that is why coupon problems are 404/409 rather than 422.
 *
 * | status | code                    | when |
 * |--------|-------------------------|------|
 * | 400    | payment_method_required | the amount after any coupon is above 0 and no paymentMethod was sent |
 * | 400    | coupon_expiry_in_past   | a coupon is created with an expiresAt that has already passed |
 * | 402    | card_declined           | the provider declined the card; the order stays pending and payable |
 * | 403    | forbidden               | a coupon route called by someone who is not an admin |
 * | 404    | not_found               | the order does not exist or the caller is not its buyer |
 * | 404    | coupon_not_found        | no coupon has this code |
 * | 409    | order_not_pending       | the order is complete, cancelled, expired or past its expiresAt |
 * | 409    | payment_in_progress     | another payment of this order (or this Idempotency-Key) is being processed |
 * | 409    | idempotency_key_reused  | the Idempotency-Key was already used to pay another order |
 * | 409    | coupon_expired          | the coupon's expiresAt has passed |
 * | 409    | coupon_exhausted        | the coupon has been redeemed maxRedemptions times |
 * | 409    | coupon_code_taken       | a coupon with this code exists |
 * | 503    | payment_outcome_unknown | the order could not be confirmed; the payment is settled in the background |
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
  idempotencyKeyReused: () => new AppError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used to pay another order.'),
  outcomeUnknown: () =>
    new AppError(
      503,
      'payment_outcome_unknown',
      'We could not confirm the payment yet. It will be settled automatically: either the order is completed with one charge or no money is kept. Please check the order in a minute.',
    ),
};

export const couponErrors = {
  notAdmin: () => new AppError(403, 'forbidden', 'Only an admin can manage coupons.'),
  notFound: () => new AppError(404, 'coupon_not_found', 'There is no coupon with this code.'),
  expired: () => new AppError(409, 'coupon_expired', 'This coupon has expired.'),
  exhausted: () => new AppError(409, 'coupon_exhausted', 'This coupon has been used up.'),
  codeTaken: () => new AppError(409, 'coupon_code_taken', 'A coupon with this code already exists.'),
  expiryInPast: () =>
    new AppError(400, 'coupon_expiry_in_past', 'The coupon would already be expired.', [{ field: 'expiresAt', message: 'must be in the future' }]),
};
