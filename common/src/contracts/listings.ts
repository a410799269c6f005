import { z } from 'zod';
import { id, isoTimestamp, pageQuery, text } from './common';
import { amountProblem, currency, DEFAULT_CURRENCY, MAX_AMOUNT, MINOR_UNIT_DESCRIPTION, minorUnits } from './money';

export const LISTING_STATUSES = ['available', 'reserved', 'sold'] as const;

const title = text({ max: 200 });
// "" is a listing without a description (what an omitted one is stored as).
const description = text({ max: 5000, multiline: true, allowEmpty: true });
// Its currency's minimum, maximum and step are checked where the currency is known: below for a new
// listing, by listings-service for a new price (the stored listing has the currency).
const priceCents = z
  .number({ message: 'must be a number' })
  .int("must be a whole number of the currency's minor unit")
  .min(1, 'must be at least 1')
  .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`)
  .meta({ description: `The price. ${MINOR_UNIT_DESCRIPTION}` });

export const createListingBody = z
  .object({ title, description: description.optional(), priceCents, currency: currency.optional() })
  .strict()
  .superRefine((body, ctx) => {
    // A price out of every currency's bounds already has its issue; one message per field.
    if (!Number.isInteger(body.priceCents) || body.priceCents < 1 || body.priceCents > MAX_AMOUNT) return;
    const problem = amountProblem(body.priceCents, body.currency ?? DEFAULT_CURRENCY);
    if (problem) ctx.addIssue({ code: 'custom', path: ['priceCents'], message: problem.message });
  });
export const updateListingBody = z
  .object({ title: title.optional(), description: description.optional(), priceCents: priceCents.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'must change at least one field');
export const listingsQuery = z.object({ ...pageQuery, status: z.enum(LISTING_STATUSES).optional(), sellerId: id.optional() }).strict();

export const listing = z.object({
  id,
  sellerId: id,
  title: z.string(),
  description: z.string(),
  priceCents: minorUnits('The price'),
  currency: z.string(),
  status: z.enum(LISTING_STATUSES),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Listing = z.infer<typeof listing>;
export const listingReply = z.object({ listing });

/** RPC payloads of listings-service (`listings.*`). */
export const listingsRpc = {
  create: createListingBody,
  get: z.object({ id }).strict(),
  list: listingsQuery,
  update: z.object({ id, changes: updateListingBody }).strict(),
  delete: z.object({ id }).strict(),
  /** Internal, from orders-service: one conditional change, available → reserved for this order. */
  reserve: z.object({ id, orderId: id }).strict(),
  release: z.object({ id, orderId: id }).strict(),
  markSold: z.object({ id, orderId: id }).strict(),
  /** Internal, from orders-service: a waiting list's hand-over moves the reservation from one order to the next. */
  transfer: z.object({ id, fromOrderId: id, toOrderId: id }).strict(),
};
