import { type Actor, type contracts, problem, transact } from '@market/common';
import type { ListingRecord } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';
import { publicListing } from './listing-view';

/**
 * available → reserved for `orderId`, as one conditional UPDATE on the row that owns the truth.
 * Repeating the call for the same order is answered with the listing (a retried RPC is harmless).
 */
export async function reserveListing(deps: ListingsDeps, buyer: Actor, id: string, orderId: string): Promise<contracts.Listing> {
  return transact(deps.db, async (trx) => {
    if (await deps.listings.reserve(id, orderId, buyer.id, trx)) {
      const reserved = publicListing((await deps.listings.findById(id, trx)) as ListingRecord);
      await deps.outbox.publish(trx, 'listing.reserved', { listing: reserved });
      return reserved;
    }
    const listing = await deps.listings.findById(id, trx);
    if (!listing) throw problem('not_found', 'The listing');
    if (listing.sellerId === buyer.id) throw problem('own_listing', 'buy');
    if (listing.status === 'reserved' && listing.reservedOrderId === orderId) return publicListing(listing);
    if (listing.status === 'sold') throw problem('listing_sold');
    throw problem('listing_reserved');
  });
}
