import { AppError, notFound } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';

/** Same sentence as listings-service's: the buyer reads it whichever service noticed the conflict. */
export const RESERVED_DETAIL = 'This listing is being checked out by someone else, please come back later';

const WHY_NOT_PENDING: Record<OrderRecord['status'], string> = {
  complete: 'it has already been paid',
  cancelled: 'it was cancelled',
  expired: 'it expired: its hold on the listing ended before it was paid',
  // Pending but past its hold: the expiry is a moment away, and paying now would sell a released listing.
  pending: 'its hold on the listing has ended',
};

export const orderErrors = {
  // Someone else's order is "not found" too: a 403 would confirm that it exists.
  notFound: () => notFound('The order'),
  notPending: (order: OrderRecord, action: 'cancelled' | 'paid') =>
    new AppError(409, 'order_not_pending', `This order can no longer be ${action}: ${WHY_NOT_PENDING[order.status]}.`),
  listingReserved: () => new AppError(409, 'listing_reserved', RESERVED_DETAIL),
  checkoutInterrupted: () => new AppError(503, 'checkout_interrupted', 'The checkout took too long and was undone. Please try again.'),
};
