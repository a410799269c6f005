import type { z } from 'zod';
import type { Actor, contracts } from '@market/common';
import { assertCouponAdmin } from './coupon-rules';
import { publicCoupon } from './coupon-view';
import type { PaymentsDeps } from './deps';

/** A page of every coupon, newest first (admin). */
export async function listCoupons(deps: PaymentsDeps, actor: Actor, query: z.infer<typeof contracts.couponsQuery>): Promise<contracts.Page<contracts.Coupon>> {
  assertCouponAdmin(actor);
  const { items, total } = await deps.coupons.list(query.limit, query.offset);
  return { items: items.map(publicCoupon), limit: query.limit, offset: query.offset, total };
}
