import { type Actor, problem, transact } from '@market/common';
import type { ListingsDeps } from './deps';
import { removeGoodsOf } from './goods-files';
import { assertChangeable } from './listing-guards';
import { publicListing } from './listing-view';

/** The seller, or an admin, deletes a listing nobody is buying; its goods go with it. */
export async function deleteListing(deps: ListingsDeps, actor: Actor, id: string): Promise<void> {
  await transact(deps.db, async (trx) => {
    const listing = await deps.listings.findById(id, trx, true);
    if (!listing) throw problem('not_found', 'The listing');
    if (listing.sellerId !== actor.id && actor.role !== 'admin') throw problem('not_listing_seller', 'delete');
    assertChangeable(listing);
    if (!(await deps.listings.deleteIfAvailable(id, trx))) throw problem('edit_conflict');
    await removeGoodsOf(deps, id, trx);
    await deps.outbox.publish(trx, 'listing.deleted', { listing: publicListing(listing) });
  });
}
