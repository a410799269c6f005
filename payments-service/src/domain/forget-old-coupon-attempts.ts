import type { PaymentsDeps } from './deps';

/** Attempts out of the window count for nobody; the reconciler's rounds clear them away. */
export async function forgetOldCouponAttempts(deps: PaymentsDeps): Promise<number> {
  return deps.couponAttempts.deleteOlderThan(new Date(Date.now() - deps.couponAttemptLimits.windowSeconds * 1000));
}
