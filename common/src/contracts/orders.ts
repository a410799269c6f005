import { z } from 'zod';
import { id, isoTimestamp, pageQuery } from './common';
import { minorUnits } from './money';

export const ORDER_STATUSES = ['pending', 'complete', 'cancelled', 'expired', 'refunded'] as const;

export const createOrderBody = z.object({ listingId: id }).strict();
export const ordersQuery = z.object({ ...pageQuery, status: z.enum(ORDER_STATUSES).optional() }).strict();

export const order = z.object({
  id,
  buyerId: id,
  listingId: id,
  priceCents: minorUnits("The listing's price when it was ordered"),
  currency: z.string(),
  status: z.enum(ORDER_STATUSES),
  expiresAt: isoTimestamp,
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Order = z.infer<typeof order>;
export const orderReply = z.object({ order });

/** A place in a listing's waiting list; `position` is 1 for the next person to get the listing. */
export const waitlistEntry = z.object({ listingId: id, position: z.number().int().min(1), joinedAt: isoTimestamp });
export type WaitlistEntry = z.infer<typeof waitlistEntry>;
export const waitlistEntryReply = z.object({ entry: waitlistEntry });
export const waitlistReply = z.object({ items: z.array(waitlistEntry) });

export const ordersRpc = {
  create: createOrderBody,
  list: ordersQuery,
  get: z.object({ id }).strict(),
  cancel: z.object({ id }).strict(),
  /** Internal, from payments-service: pending → complete, only if still pending and unexpired. */
  complete: z.object({ id }).strict(),
  /** Internal, from payments-service once a complete order's payment was refunded: complete → refunded. */
  refund: z.object({ id }).strict(),
  joinWaitlist: z.object({ listingId: id }).strict(),
  leaveWaitlist: z.object({ listingId: id }).strict(),
  listWaitlist: z.object({}).strict(),
};
