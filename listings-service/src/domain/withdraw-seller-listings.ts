import type { Knex } from '@market/common';
import type { ListingsDeps } from './deps';
import { removeGoodsOf } from './goods-files';
import { publicListing } from './listing-view';

/** On `user.deleted`: the seller's available listings are withdrawn; reserved ones go when released. */
export async function withdrawSellerListings(deps: ListingsDeps, sellerId: string, trx: Knex.Transaction): Promise<number> {
  await deps.listings.recordDeletedSeller(sellerId, trx);
  const listings = await deps.listings.availableOfSeller(sellerId, trx);
  for (const listing of listings) {
    await deps.listings.deleteById(listing.id, trx);
    await removeGoodsOf(deps, listing.id, trx);
    await deps.outbox.publish(trx, 'listing.deleted', { listing: publicListing(listing) });
  }
  return listings.length;
}
