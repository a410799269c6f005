import { type contracts, problem, transact } from '@market/common';
import type { ListingRecord } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';
import { publicListing } from './listing-view';

/** reserved (by this order) → sold. Idempotent for the same order; refused for any other state. */
export async function markListingSold(deps: ListingsDeps, id: string, orderId: string): Promise<contracts.Listing> {
  return transact(deps.db, async (trx) => {
    if (await deps.listings.markSold(id, orderId, trx)) {
      const sold = publicListing((await deps.listings.findById(id, trx)) as ListingRecord);
      await deps.outbox.publish(trx, 'listing.sold', { listing: sold });
      return sold;
    }
    const listing = await deps.listings.findById(id, trx);
    if (!listing) throw problem('not_found', 'The listing');
    if (listing.status === 'sold' && listing.reservedOrderId === orderId) return publicListing(listing);
    throw problem('listing_not_reserved');
  });
}
