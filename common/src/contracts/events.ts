import { z } from 'zod';
import { id } from './common';
import { listing } from './listings';
import { order } from './orders';
import { payment } from './payments';

const listingEvent = z.object({ listing });
const orderEvent = z.object({ order });

/** Every event on the bus, named as a past-tense fact, with the schema its payload must satisfy. */
export const eventSchemas = {
  'user.deleted': z.object({ userId: id }),
  /** Access tokens of this user with a version below `tokenVersion` are dead (password, role or sessions changed). */
  'user.sessions_revoked': z.object({ userId: id, tokenVersion: z.number().int().min(0) }),
  'listing.created': listingEvent,
  'listing.updated': listingEvent,
  'listing.deleted': listingEvent,
  'listing.reserved': listingEvent,
  'listing.released': listingEvent,
  'listing.sold': listingEvent,
  /** The reservation moved from one order to the next (a waiting list's hand-over); the listing stays reserved. */
  'listing.transferred': z.object({ listing, fromOrderId: id, toOrderId: id }),
  'order.created': orderEvent,
  'order.cancelled': orderEvent,
  'order.expired': orderEvent,
  'order.completed': orderEvent,
  /** A complete order's payment was refunded; the listing stays sold. */
  'order.refunded': orderEvent,
  /** A hold ended unpaid and the first person in the listing's waiting list got it: `order` is their new pending order. */
  'order.handed_over': z.object({ order, fromOrderId: id }),
  /** A person whose turn came could not buy (deleted, at their hold limit, already holding it) and left the line. */
  'order.waitlist_passed_over': z.object({ listingId: id, buyerId: id, reason: z.enum(['deleted', 'hold_limit', 'already_holding']) }),
  /** The listing sold: everyone still waiting for it left the line. */
  'order.waitlist_closed': z.object({ listingId: id, buyerIds: z.array(id) }),
  'payment.succeeded': z.object({ payment }),
  'payment.refunded': z.object({ payment }),
  /**
   * The order was completed, then the provider refused to capture its authorization (it had lapsed,
   * or was cancelled at the provider): the order is complete and unpaid, and `payment` is `failed`.
   * For whoever collects the money or reverses the sale; `reason` is the provider's refusal.
   */
  'payment.capture_failed': z.object({ payment, reason: z.string() }),
  /** The provider could not return the money of a refund (`reason` is its failure_reason): a person must act. */
  'payment.refund_failed': z.object({ payment, reason: z.string() }),
  /** The buyer disputed the charge with their bank (a chargeback); `dispute` is the provider's. */
  'payment.disputed': z.object({ payment, dispute: z.object({ id: z.string(), reason: z.string(), status: z.string(), amount: z.number().int() }) }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventMap = { [K in EventType]: z.infer<(typeof eventSchemas)[K]> };
