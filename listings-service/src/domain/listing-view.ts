import type { contracts } from '@market/common';
import type { ListingRecord } from '../data-access/listing-repository';

/** The public shape: which order holds a reservation is nobody else's business. */
export const publicListing = (listing: ListingRecord): contracts.Listing => ({
  id: listing.id,
  sellerId: listing.sellerId,
  title: listing.title,
  description: listing.description,
  priceCents: listing.priceCents,
  currency: listing.currency,
  status: listing.status,
  version: listing.version,
  createdAt: listing.createdAt,
  updatedAt: listing.updatedAt,
});
