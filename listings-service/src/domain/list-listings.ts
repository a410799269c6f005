import type { z } from 'zod';
import type { contracts } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicListing } from './listing-view';

export async function listListings(deps: ListingsDeps, query: z.infer<typeof contracts.listingsQuery>): Promise<contracts.Page<contracts.Listing>> {
  const { items, total } = await deps.listings.list({ status: query.status, sellerId: query.sellerId, text: query.q }, query.limit, query.offset);
  return { items: items.map(publicListing), limit: query.limit, offset: query.offset, total };
}
