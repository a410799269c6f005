import { z } from 'zod';
import { id, isoTimestamp, pageOf, pageQuery } from './common';
import { goodsFileInfo } from './listings';
import { minorUnits } from './money';

export const ORDER_STATUSES = ['pending', 'complete', 'cancelled', 'expired', 'refunded'] as const;

export const createOrderBody = z.object({ listingId: id }).strict().meta({ id: 'CreateOrderRequest', examples: [{ listingId: '3f0c9a52-8a0e-4f8e-9d55-0b5c2f1e7a10' }] });
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
}).meta({ id: 'Order' });
export type Order = z.infer<typeof order>;
export const orderReply = z.object({ order }).meta({ id: 'OrderReply' });
export const orderPage = pageOf(order).meta({ id: 'OrderPage' });

/** A place in a listing's waiting list; `position` is 1 for the next person to get the listing. */
export const waitlistEntry = z.object({ listingId: id, position: z.number().int().min(1), joinedAt: isoTimestamp }).meta({ id: 'WaitlistEntry' });
export type WaitlistEntry = z.infer<typeof waitlistEntry>;
export const waitlistEntryReply = z.object({ entry: waitlistEntry }).meta({ id: 'WaitlistEntryReply' });
export const waitlistReply = z.object({ items: z.array(waitlistEntry) }).meta({ id: 'WaitlistPlaces' });

/**
 * What the buyer of a complete order gets: the seller's text, and for a file a fresh signed link
 * (`/downloads/<token>`) that works DOWNLOAD_LINK_MAX_USES times until `expiresAt`.
 */
export const orderGoods = z.object({
  text: z.string().optional(),
  file: goodsFileInfo
    .extend({
      url: z.string().meta({ description: 'A signed link, `/downloads/<token>`, relative to the gateway: whoever holds it may download the file' }),
      expiresAt: isoTimestamp,
    })
    .optional(),
}).meta({ id: 'OrderGoods' });
export type OrderGoods = z.infer<typeof orderGoods>;
export const orderGoodsReply = z.object({ goods: orderGoods }).meta({ id: 'OrderGoodsReply' });

/** A download link's token: 32 random bytes, base64url. */
export const downloadToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a download token');
export const downloadParams = z.object({ token: downloadToken }).strict();
/** `orders.download`: the file the link is for. */
export const downloadReply = z.object({ name: z.string(), contentType: z.string(), contentBase64: z.string() });

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
  /** The goods of the caller's complete order (`orderGoodsReply`). */
  goods: z.object({ id }).strict(),
  /** No person: the link is the bearer (`downloadReply`). */
  download: z.object({ token: downloadToken }).strict(),
};
