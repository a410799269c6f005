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

/** Explains why a coupon cannot be redeemed now, or returns it. */
export function redeemableCoupon(coupon: contracts.Coupon | undefined, now: Date): contracts.Coupon {
  if (!coupon) throw couponErrors.notFound();
  if (coupon.expiresAt !== null && Date.parse(coupon.expiresAt) <= now.getTime()) throw couponErrors.expired();
  if (coupon.maxRedemptions !== null && coupon.redemptions >= coupon.maxRedemptions) throw couponErrors.exhausted();
  return coupon;
}
