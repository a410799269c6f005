// Listings this page has seen (reads and live changes), so an order can show its listing's title and
// the checkout its listing without asking the API again: every request counts against the rate limit.
import { useEffect, useState } from 'preact/hooks';
import { api, path, type Listing, type ListingStatus } from './api';

const known = new Map<string, Listing>();

export function rememberListing(listing: Listing): Listing {
  const current = known.get(listing.id);
  if (!current || listing.version >= current.version) known.set(listing.id, listing);
  return listing;
}

export function rememberListings(listings: Listing[]): Listing[] {
  for (const listing of listings) rememberListing(listing);
  return listings;
}

export const knownListing = (id: string): Listing | undefined => known.get(id);

/** The listing an order is for: known from an earlier page, or asked once (a failure just leaves it unknown). */
export function useKnownListing(listingId: string | undefined): Listing | undefined {
  const [listing, setListing] = useState<Listing | undefined>(undefined);
  useEffect(() => {
    if (!listingId) return;
    const seen = knownListing(listingId);
    if (seen) return setListing(seen);
    api.get<{ listing: Listing }>(path('listings', listingId), { auth: false }).then(
      (r) => setListing(rememberListing(r.listing)),
      () => undefined,
    );
  }, [listingId]);
  return listing;
}

export const STATUS_TEXT: Record<ListingStatus, string> = { available: 'Available', reserved: 'Reserved', sold: 'Sold' };

export const RESERVED_SENTENCE = 'This listing is being checked out by someone else, please come back later';
