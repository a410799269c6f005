import { type contracts, transact } from '@market/common';
import type { ListingRecord } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';
import { removeGoodsOf } from './goods-files';
import { publicListing } from './listing-view';

/** reserved (by this order) → available; a no-op otherwise. Withdrawn instead if its seller is gone. */
export async function releaseListing(deps: ListingsDeps, id: string, orderId: string): Promise<contracts.Listing | null> {
  return transact(deps.db, async (trx) => {
    if (!(await deps.listings.release(id, orderId, trx))) {
      const listing = await deps.listings.findById(id, trx);
      return listing ? publicListing(listing) : null;
    }
    const released = (await deps.listings.findById(id, trx)) as ListingRecord;
    if (await deps.listings.isDeletedSeller(released.sellerId, trx)) {
      await deps.listings.deleteById(id, trx);
      await removeGoodsOf(deps, id, trx);
      await deps.outbox.publish(trx, 'listing.deleted', { listing: publicListing(released) });
      return null;
    }
    await deps.outbox.publish(trx, 'listing.released', { listing: publicListing(released) });
    return publicListing(released);
  });
}
