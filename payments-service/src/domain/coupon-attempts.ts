import { randomUUID } from 'node:crypto';
import { type Actor, describeError, problem } from '@market/common';
import type { PaymentsDeps } from './deps';
import { isUnusableCoupon } from './payment-errors';

export interface CouponAttemptLimits {
  /** Unusable coupons a buyer may try within the window (COUPON_FAILURES_MAX). */
  maxFailures: number;
  /** COUPON_FAILURES_WINDOW_SECONDS. */
  windowSeconds: number;
}

/**
 * Runs a payment that carries a coupon as one counted attempt, so that coupon codes cannot be
 * guessed at speed: once a buyer has tried `maxFailures` unusable coupons within the window, the
 * next coupon payment is refused with 429 until the oldest of them leaves it. The count lives in
 * payments' database, so every replica sees the same one.
 *
 * The attempt is recorded before the payment runs and kept only when the coupon proved unusable;
 * any other ending (paid, declined, order not payable, refused here) forgets it. Being written
 * first, parallel attempts count each other, so a burst cannot pass the check together.
 */
export async function asCouponAttempt<T>(deps: PaymentsDeps, buyer: Actor, pay: () => Promise<T>): Promise<T> {
  const { maxFailures, windowSeconds } = deps.couponAttemptLimits;
  const id = randomUUID();
  const now = new Date();
  const windowMs = windowSeconds * 1000;
  await deps.couponAttempts.insert(id, buyer.id, now);
  let unusable = false;
  try {
    const blocking = await deps.couponAttempts.nthNewestSince(buyer.id, id, new Date(now.getTime() - windowMs), maxFailures);
    if (blocking) throw problem('too_many_coupon_attempts', { retryAfterSeconds: (blocking.getTime() + windowMs - Date.now()) / 1000 });
    return await pay();
  } catch (err) {
    unusable = isUnusableCoupon(err);
    throw err;
  } finally {
    // A row left behind by a failed delete only counts against the buyer until the window passes:
    // not worth turning a finished payment into an error.
    if (!unusable) await deps.couponAttempts.delete(id).catch((err: unknown) => deps.logger.warn('could not forget a coupon attempt', { err: describeError(err).message }));
  }
}
