import { type contracts, problem, transact } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicListing } from './listing-view';

/**
 * reserved for `fromOrderId` → reserved for `toOrderId`: orders-service handed the listing to the next
 * person in its waiting list. Idempotent (the sweep repeats it after a crash): already with the new order,
 * reserved or sold by it, is the same success. Refused for any other state.
 */
export async function transferReservation(deps: ListingsDeps, id: string, fromOrderId: string, toOrderId: string): Promise<contracts.Listing> {
  return transact(deps.db, async (trx) => {
    const moved = await deps.listings.transfer(id, fromOrderId, toOrderId, trx);
    const listing = await deps.listings.findById(id, trx);
    // Only the call that moved it tells: a repeated transfer is the same success, not a second move.
    if (moved && listing) await deps.outbox.publish(trx, 'listing.transferred', { listing: publicListing(listing), fromOrderId, toOrderId });
    if (!listing) throw problem('not_found', 'The listing');
    if (listing.reservedOrderId === toOrderId && listing.status !== 'available') return publicListing(listing);
    throw problem('listing_not_reserved');
  });
}
