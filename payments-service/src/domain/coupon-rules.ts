import { type Actor, contracts, problem } from '@market/common';
import type { CouponRecord } from '../data-access/coupon-repository';
import { couponErrors } from './payment-errors';

/**
 * What the buyer pays: the discount (percentOff of the price) is rounded DOWN to a whole minor unit,
 * so the amount charged is rounded up — a buyer never pays less than the exact percentage says, and
 * a 100% coupon makes it exactly 0. E.g. 50% of 2501 cents: discount 1250, amount 1251.
 * Integer arithmetic is exact here: priceCents * 100 stays far below 2^53.
 *
 * What is left must be an amount Stripe charges (contracts.COUPON_RULE says it for the API):
 * - more than 0 but under the currency's minimum is raised to the minimum, never above the price.
 *   Free would turn a 99% coupon on a cheap listing into a free one, and a charge Stripe refuses
 *   would leave the order unpayable with that coupon; the minimum is what a card can pay, and the
 *   seller still sells at no more than their price. E.g. 99% of 2000 cents: 20 left, 50 charged.
 * - in a three-decimal currency it is rounded up to a multiple of 10, as Stripe wants: 50% of
 *   1010 kwd fils is 505 left, 510 charged.
 * A price its currency cannot be charged at (from before these rules) is left as it is for the
 * payment provider to refuse.
 */
export function amountAfterCoupon(priceCents: number, percentOff: number | undefined, currency: string): number {
  if (!percentOff) return priceCents;
  const left = priceCents - Math.floor((priceCents * percentOff) / 100);
  if (left === 0 || !contracts.isCurrencyCode(currency)) return left;
  const { minimum, multipleOf } = contracts.CURRENCIES[currency];
  const chargeable = Math.max(minimum, Math.ceil(left / multipleOf) * multipleOf);
  return Math.min(chargeable, priceCents);
}

/**
 * Returns the coupon when it can be redeemed now. Unknown, expired and used up are one refusal
 * (coupon_invalid), decided by the same single read: neither the answer nor the work behind it
 * tells a prober which it was.
 */
export function redeemableCoupon(coupon: CouponRecord | undefined, now: Date): CouponRecord {
  const expired = coupon?.expiresAt != null && Date.parse(coupon.expiresAt) <= now.getTime();
  const usedUp = coupon?.maxRedemptions != null && coupon.redemptions >= coupon.maxRedemptions;
  if (!coupon || expired || usedUp) throw couponErrors.invalid();
  return coupon;
}

/** The gateway lets only admins through; checked again here so that no other caller can mint discounts. */
export function assertCouponAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw problem('forbidden', 'manageCoupons');
}
