import type { contracts } from '@market/common';
import type { CouponRecord } from '../data-access/coupon-repository';

/** The contract's shape: who created a coupon stays with the service. */
export const publicCoupon = (coupon: CouponRecord): contracts.Coupon => ({
  id: coupon.id,
  code: coupon.code,
  percentOff: coupon.percentOff,
  maxRedemptions: coupon.maxRedemptions,
  redemptions: coupon.redemptions,
  expiresAt: coupon.expiresAt,
  createdAt: coupon.createdAt,
});
