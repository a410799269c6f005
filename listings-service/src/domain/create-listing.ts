import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Actor, contracts, transact } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicListing } from './listing-view';

export async function createListing(deps: ListingsDeps, seller: Actor, input: z.infer<typeof contracts.createListingBody>): Promise<contracts.Listing> {
  return transact(deps.db, async (trx) => {
    const created = await deps.listings.insert(
      { id: randomUUID(), sellerId: seller.id, title: input.title, description: input.description ?? '', priceCents: input.priceCents, currency: input.currency ?? contracts.DEFAULT_CURRENCY },
      trx,
    );
    await deps.outbox.publish(trx, 'listing.created', { listing: publicListing(created) });
    return publicListing(created);
  });
}
