import { type Actor, type contracts, notFound, transact } from '@market/common';
import { type ListingRecord, publicListing } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';
import { listingErrors } from './listing-errors';
import { removeGoodsOf } from './manage-goods';

type Listing = contracts.Listing;

/**
 * available → reserved for `orderId`, as one conditional UPDATE on the row that owns the truth.
 * Repeating the call for the same order is answered with the listing (a retried RPC is harmless).
 */
export async function reserveListing(deps: ListingsDeps, buyer: Actor, id: string, orderId: string): Promise<Listing> {
  return transact(deps.db, async (trx) => {
    if (await deps.listings.reserve(id, orderId, buyer.id, trx)) {
      const reserved = publicListing((await deps.listings.findById(id, trx)) as ListingRecord);
      await deps.outbox.publish(trx, 'listing.reserved', { listing: reserved });
      return reserved;
    }
    const listing = await deps.listings.findById(id, trx);
    if (!listing) throw notFound('The listing');
    if (listing.sellerId === buyer.id) throw listingErrors.ownListing();
    if (listing.status === 'reserved' && listing.reservedOrderId === orderId) return publicListing(listing);
    if (listing.status === 'sold') throw listingErrors.sold();
    throw listingErrors.reserved();
  });
}

/** reserved (by this order) → available; a no-op otherwise. Withdrawn instead if its seller is gone. */
export async function releaseListing(deps: ListingsDeps, id: string, orderId: string): Promise<Listing | null> {
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

/** reserved (by this order) → sold. Idempotent for the same order; refused for any other state. */
export async function markListingSold(deps: ListingsDeps, id: string, orderId: string): Promise<Listing> {
  return transact(deps.db, async (trx) => {
    if (await deps.listings.markSold(id, orderId, trx)) {
      const sold = publicListing((await deps.listings.findById(id, trx)) as ListingRecord);
      await deps.outbox.publish(trx, 'listing.sold', { listing: sold });
      return sold;
    }
    const listing = await deps.listings.findById(id, trx);
    if (!listing) throw notFound('The listing');
    if (listing.status === 'sold' && listing.reservedOrderId === orderId) return publicListing(listing);
    throw listingErrors.notReservedForOrder();
  });
}

/**
 * reserved for `fromOrderId` → reserved for `toOrderId`: orders-service handed the listing to the next
 * person in its waiting list. Idempotent (the sweep repeats it after a crash): already with the new order,
 * reserved or sold by it, is the same success. Refused for any other state.
 */
export async function transferReservation(deps: ListingsDeps, id: string, fromOrderId: string, toOrderId: string): Promise<Listing> {
  return transact(deps.db, async (trx) => {
    const moved = await deps.listings.transfer(id, fromOrderId, toOrderId, trx);
    const listing = await deps.listings.findById(id, trx);
    // Only the call that moved it tells: a repeated transfer is the same success, not a second move.
    if (moved && listing) await deps.outbox.publish(trx, 'listing.transferred', { listing: publicListing(listing), fromOrderId, toOrderId });
    if (!listing) throw notFound('The listing');
    if (listing.reservedOrderId === toOrderId && listing.status !== 'available') return publicListing(listing);
    throw listingErrors.notReservedForOrder();
  });
}
