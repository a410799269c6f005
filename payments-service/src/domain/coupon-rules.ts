import type { contracts } from '@market/common';
import { couponErrors } from './payment-errors';

/**
 * What the buyer pays: the discount (percentOff of the price) is rounded DOWN to a whole cent, so
 * the amount charged is rounded up — a buyer never pays less than the exact percentage says, and a
 * 100% coupon makes it exactly 0. E.g. 50% of 2501 cents: discount 1250, amount 1251.
 * Integer arithmetic is exact here: priceCents * 100 stays far below 2^53.
 */
export function amountAfterCoupon(priceCents: number, percentOff: number | undefined): number {
  if (!percentOff) return priceCents;
  return priceCents - Math.floor((priceCents * percentOff) / 100);
}

/**
 * Returns the coupon when it can be redeemed now. Unknown, expired and used up are one refusal
 * (coupon_invalid), decided by the same single read: neither the answer nor the work behind it
 * tells a prober which it was.
 */
export function redeemableCoupon(coupon: contracts.Coupon | undefined, now: Date): contracts.Coupon {
  const expired = coupon?.expiresAt != null && Date.parse(coupon.expiresAt) <= now.getTime();
  const usedUp = coupon?.maxRedemptions != null && coupon.redemptions >= coupon.maxRedemptions;
  if (!coupon || expired || usedUp) throw couponErrors.invalid();
  return coupon;
}
