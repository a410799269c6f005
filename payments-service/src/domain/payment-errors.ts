import { isProblem, problem } from '@market/common';

/*
 * The problems payments-service answers with are in the error catalogue (common/src/errors/catalogue.ts,
 * listed in the README). Here are only the ones that name a field.
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
    problem('payment_method_required', { errors: [{ field: 'paymentMethod', message: 'is required unless a coupon covers the whole price' }] }),
};

export const couponErrors = {
  /** Unknown, used up and expired alike: the same status, code and words, so the answer tells nothing apart. */
  invalid: () => problem('coupon_invalid', { errors: [{ field: 'couponCode', message: 'is not a coupon that can be used now' }] }),
  expiryInPast: () => problem('coupon_expiry_in_past', { errors: [{ field: 'expiresAt', message: 'must be in the future' }] }),
};

export const isUnusableCoupon = (err: unknown): boolean => isProblem(err, 'coupon_invalid');
