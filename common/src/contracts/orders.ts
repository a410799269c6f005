import { z } from 'zod';
import { id, isoTimestamp, pageQuery } from './common';

export const ORDER_STATUSES = ['pending', 'complete', 'cancelled', 'expired'] as const;

export const createOrderBody = z.object({ listingId: id }).strict();
export const ordersQuery = z.object({ ...pageQuery, status: z.enum(ORDER_STATUSES).optional() }).strict();

export const order = z.object({
  id,
  buyerId: id,
  listingId: id,
  priceCents: z.number().int(),
  currency: z.string(),
  status: z.enum(ORDER_STATUSES),
  expiresAt: isoTimestamp,
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Order = z.infer<typeof order>;
export const orderReply = z.object({ order });

export const ordersRpc = {
  create: createOrderBody,
  list: ordersQuery,
  get: z.object({ id }).strict(),
  cancel: z.object({ id }).strict(),
  /** Internal, from payments-service: pending → complete, only if still pending and unexpired. */
  complete: z.object({ id }).strict(),
};
