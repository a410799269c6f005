import { AppError, notFound } from '@market/common';
import type { OrderRecord, OrderStatus } from '../data-access/order-repository';

/** Same sentence as listings-service's: the buyer reads it whichever service noticed the conflict. */
export const RESERVED_DETAIL = 'This listing is being checked out by someone else, please come back later';

/** An order that was never paid: only a complete one can be refunded (a refunded one again is no error, it is idempotent). */
export type UnrefundableStatus = Exclude<OrderStatus, 'complete' | 'refunded'>;

const WHY_NOT_REFUNDABLE: Record<UnrefundableStatus, string> = {
  pending: 'it has not been paid',
  cancelled: 'it was cancelled before it was paid',
  expired: 'it expired before it was paid',
};

const WHY_NOT_PENDING: Record<OrderRecord['status'], string> = {
  complete: 'it has already been paid',
  cancelled: 'it was cancelled',
  expired: 'it expired: its hold on the listing ended before it was paid',
  refunded: 'it was paid and then refunded',
  // Pending but past its hold: the expiry is a moment away, and paying now would sell a released listing.
  pending: 'its hold on the listing has ended',
};

export const orderErrors = {
  // Someone else's order is "not found" too: a 403 would confirm that it exists.
  notFound: () => notFound('The order'),
  notPending: (order: OrderRecord, action: 'cancelled' | 'paid') =>
    new AppError(409, 'order_not_pending', `This order can no longer be ${action}: ${WHY_NOT_PENDING[order.status]}.`),
  notRefundable: (status: UnrefundableStatus) => new AppError(409, 'order_not_refundable', `This order cannot be refunded: ${WHY_NOT_REFUNDABLE[status]}.`),
  listingReserved: () => new AppError(409, 'listing_reserved', RESERVED_DETAIL),
  // The buyer's own bounds (buyer-holds.ts): said as what they can do next, not as a conflict with someone else.
  alreadyHolding: (orderId: string) =>
    new AppError(409, 'already_holding', `You already hold this listing: your order ${orderId} is for it. Pay for that order or cancel it; there is no need to order again.`, undefined, undefined, { orderId }),
  tooManyHolds: (limit: number) =>
    new AppError(409, 'too_many_holds', `A buyer can hold at most ${limit} listings at once (pending orders), and you already do. Pay for or cancel one of your pending orders, or let one expire, then order again.`),
  reholdCooldown: (allowedAt: string, secondsLeft: number) =>
    new AppError(409, 'rehold_cooldown', `You cancelled your order for this listing a short while ago, so you cannot hold it again yet. Try again in ${secondsLeft} s (from ${allowedAt}); anyone else may order it meanwhile.`),
  // The waiting list (join-waitlist.ts).
  listingAvailable: () => new AppError(409, 'listing_available', 'Nobody holds this listing right now, so there is no line to join: order it instead (POST /orders).'),
  listingSold: () => new AppError(409, 'listing_sold', 'This listing has already been sold.'),
  ownListingWaitlist: () => new AppError(403, 'own_listing', 'You cannot join the waiting list of your own listing.'),
  alreadyWaiting: (position: number) =>
    new AppError(409, 'already_waiting', `You are already in the waiting list of this listing, at position ${position}.`, undefined, undefined, { position }),
  waitlistFull: (limit: number) => new AppError(409, 'waitlist_full', `The waiting list of this listing is full (${limit} people). Try again later.`),
  tooManyWaitlists: (limit: number) =>
    new AppError(409, 'too_many_waitlists', `A person can wait for at most ${limit} listings at once, and you already do. Leave one of your waiting lists (DELETE /listings/{id}/waitlist), then join again.`),
  // The goods (get-order-goods.ts, download-goods.ts).
  notComplete: (status: OrderStatus) =>
    new AppError(
      409,
      'order_not_complete',
      status === 'refunded' ? 'This order was refunded: its goods were revoked with the refund.' : 'The goods are handed over once the order is paid: this order is not complete.',
    ),
  linkGone: () => new AppError(410, 'link_gone', 'This download link has expired, been used up or been revoked.'),
  goodsNotReady: () => new AppError(503, 'goods_not_ready', 'The sale of this order is still being recorded. Please try again shortly.', undefined, 5),
  checkoutInterrupted: () => new AppError(503, 'checkout_interrupted', 'The checkout took too long and was undone. Please try again.'),
};
