import type { z } from 'zod';
import { type Actor, contracts, problem, transact } from '@market/common';
import type { ListingRecord } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';
import { listingErrors } from './listing-errors';
import { assertChangeable } from './listing-guards';
import { publicListing } from './listing-view';

/** A new price must be one Stripe charges in the listing's currency (a new listing's is checked by its schema). */
function assertChargeablePrice(listing: ListingRecord, priceCents: number): void {
  // A currency from before the supported list cannot be charged whatever the price; payments refuses it.
  if (!contracts.isCurrencyCode(listing.currency)) return;
  const refusal = contracts.amountProblem(priceCents, listing.currency);
  if (refusal) throw listingErrors.priceNotChargeable(listing.currency, refusal);
}

/** Seller only; refused while a checkout holds the listing or after it sold, or for a price its currency cannot be charged. */
export async function updateListing(deps: ListingsDeps, actor: Actor, id: string, changes: z.infer<typeof contracts.updateListingBody>): Promise<contracts.Listing> {
  return transact(deps.db, async (trx) => {
    const listing = await deps.listings.findById(id, trx, true);
    if (!listing) throw problem('not_found', 'The listing');
    if (listing.sellerId !== actor.id) throw problem('not_listing_seller', 'change');
    assertChangeable(listing);
    if (changes.priceCents !== undefined) assertChargeablePrice(listing, changes.priceCents);
    if (!(await deps.listings.updateIfAvailable(id, listing.version, changes, trx))) throw problem('edit_conflict');
    const updated = publicListing((await deps.listings.findById(id, trx)) as ListingRecord);
    await deps.outbox.publish(trx, 'listing.updated', { listing: updated });
    return updated;
  });
}
