import { type Actor, type Knex, problem } from '@market/common';
import type { ListingRecord } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';

// The checks several listing and goods use cases make before they touch a listing.

/** A listing held by a checkout, or sold, keeps what the buyer saw. */
export function assertChangeable(listing: ListingRecord): void {
  if (listing.status === 'reserved') throw problem('listing_reserved');
  if (listing.status === 'sold') throw problem('listing_sold');
}

/**
 * The seller's listing, locked until `trx` ends when it is given: a sale (markSold updates the same row)
 * waits for a change of goods in progress, and a change of goods for a sale, so the goods a buyer paid
 * for are the ones attached when the listing sold. Anyone else is refused; after the sale, so is the seller.
 */
export async function assertSellersUnsoldListing(deps: ListingsDeps, seller: Actor, id: string, trx?: Knex.Transaction): Promise<void> {
  const listing = await deps.listings.findById(id, trx, trx !== undefined);
  if (!listing) throw problem('not_found', 'The listing');
  if (listing.sellerId !== seller.id) throw problem('not_listing_seller', 'goods');
  if (listing.status === 'sold') throw problem('listing_sold');
}

/**
 * For orders-service, which hands the goods to the buyer of a complete order. It says which order, and
 * this service checks that the listing was sold to exactly that order: a listing's goods go to its sale's
 * order only, whoever asks. Whether that order still deserves them (not refunded) is orders-service's
 * to decide; it refuses a refunded order before asking here.
 */
export async function assertSoldTo(deps: ListingsDeps, id: string, orderId: string): Promise<void> {
  const listing = await deps.listings.findById(id);
  if (!listing) throw problem('not_found', 'The listing');
  if (listing.status !== 'sold' || listing.reservedOrderId !== orderId) throw problem('listing_not_sold');
}
