import { z } from 'zod';
import { id, isoTimestamp, pageOf, pageQuery, text } from './common';
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
  })
  .meta({ id: 'CreateListingRequest', examples: [{ title: 'Two tickets for Saturday', description: 'Row 12, seats 5 and 6.', priceCents: 2500, currency: 'usd' }] });
export const updateListingBody = z
  .object({ title: title.optional(), description: description.optional(), priceCents: priceCents.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'must change at least one field')
  .meta({
    id: 'UpdateListingRequest',
    description: "At least one field. A new `priceCents` must be one the listing's currency can be charged (`invalid_price` otherwise).",
    minProperties: 1,
    examples: [{ priceCents: 2000 }],
  });
/** `q`: listings whose title or description contains it, whatever the case. */
const searchText = text({ max: 100 }).meta({ description: 'Listings whose title or description contains this text (case-insensitive), 1..100 characters.' });
export const listingsQuery = z.object({ ...pageQuery, status: z.enum(LISTING_STATUSES).optional(), sellerId: id.optional(), q: searchText.optional() }).strict();

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
}).meta({ id: 'Listing' });
export type Listing = z.infer<typeof listing>;
export const listingReply = z.object({ listing }).meta({ id: 'ListingReply' });
export const listingPage = pageOf(listing).meta({ id: 'ListingPage' });
/** `listings.release`: null when the listing is gone (its seller was deleted while it was reserved, so the release withdrew it). */
export const releasedListingReply = z.object({ listing: listing.nullable() });

// ---- the goods a seller attaches to a listing, handed to its buyer once the order is complete ----
// Kept apart from the listing itself: no listing reply, event or cache entry ever holds them.

export const GOODS_TEXT_MAX = 10_000;
/** 10 MB: the one body above the gateway's 100 kB limit. */
export const GOODS_FILE_MAX_BYTES = 10 * 1024 * 1024;
const BASE64_MAX = 4 * Math.ceil(GOODS_FILE_MAX_BYTES / 3);

/** A ticket code, a licence key, a link: what the buyer gets to read. */
export const goodsText = text({ max: GOODS_TEXT_MAX, multiline: true });

/** A file's name as the buyer's browser will save it: one visible line, no path. */
export const goodsFileName = text({ max: 255 })
  .refine((name) => !/[/\\]/.test(name), 'must not contain / or \\')
  .refine((name) => !/^\.+$/.test(name), 'must not be only dots');

// RFC 6838 §4.2 names for type and subtype; parameters as RFC 9110 tokens (no quoted strings).
const RESTRICTED_NAME = "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}";
const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE = new RegExp(`^${RESTRICTED_NAME}/${RESTRICTED_NAME}(\\s*;\\s*${TOKEN}=${TOKEN})*$`);
export const DEFAULT_MEDIA_TYPE = 'application/octet-stream';

/** A media type such as `application/pdf` or `text/plain; charset=utf-8`; type and subtype are stored lower-case. */
export const mediaType = z
  .string()
  .trim()
  .max(255, 'must be at most 255 characters')
  .regex(MEDIA_TYPE, 'must be a media type such as application/pdf')
  .overwrite((value) => value.replace(/^[^;]+/, (essence) => essence.toLowerCase()))
  .meta({ description: 'A media type (RFC 6838), e.g. `application/pdf`.' });

const goodsFileBase64 = z.base64('must be base64').max(BASE64_MAX, `must hold at most ${GOODS_FILE_MAX_BYTES} bytes`);

export const putGoodsTextBody = z.object({ text: goodsText }).strict().meta({ id: 'PutGoodsTextRequest', examples: [{ text: 'Ticket code: 4F7Q-9K2M' }] });

export const goodsFileInfo = z.object({
  name: z.string(),
  size: z.number().int().min(1).meta({ description: 'In bytes' }),
  contentType: z.string(),
}).meta({ id: 'GoodsFileInfo' });
/** What the seller attached: a text, a file, both, or (before anything is attached) neither. */
export const goods = z.object({ text: z.string().optional(), file: goodsFileInfo.optional() }).meta({ id: 'Goods' });
export type Goods = z.infer<typeof goods>;
export const goodsReply = z.object({ goods }).meta({ id: 'GoodsReply' });
/** `listings.goodsFile`: the file itself. */
export const goodsFileReply = z.object({ name: z.string(), contentType: z.string(), contentBase64: z.string() });
export type GoodsFileContent = z.infer<typeof goodsFileReply>;

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
  /** The seller's goods (see below): replies `goodsReply`. */
  putGoodsText: z.object({ id, text: goodsText }).strict(),
  putGoodsFile: z.object({ id, name: goodsFileName, contentType: mediaType, contentBase64: goodsFileBase64 }).strict(),
  getGoods: z.object({ id }).strict(),
  /** Internal, from orders-service: the goods of a listing sold to `orderId` (`goodsReply`), and its file's bytes (`goodsFileReply`). */
  orderGoods: z.object({ id, orderId: id }).strict(),
  goodsFile: z.object({ id, orderId: id }).strict(),
};
