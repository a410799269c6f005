import { type contracts, problem } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicListing } from './listing-view';

export async function getListing(deps: ListingsDeps, id: string): Promise<contracts.Listing> {
  const listing = await deps.listings.findById(id);
  if (!listing) throw problem('not_found', 'The listing');
  return publicListing(listing);
}
