import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Actor, contracts, type Knex, notFound, transact } from '@market/common';
import { type ListingRecord, publicListing } from '../data-access/listing-repository';
import type { ListingsDeps } from './deps';
import { listingErrors } from './listing-errors';
import { removeGoodsOf } from './manage-goods';

type Listing = contracts.Listing;

export async function createListing(deps: ListingsDeps, seller: Actor, input: z.infer<typeof contracts.createListingBody>): Promise<Listing> {
  return transact(deps.db, async (trx) => {
    const created = await deps.listings.insert(
      { id: randomUUID(), sellerId: seller.id, title: input.title, description: input.description ?? '', priceCents: input.priceCents, currency: input.currency ?? contracts.DEFAULT_CURRENCY },
      trx,
    );
    await deps.outbox.publish(trx, 'listing.created', { listing: publicListing(created) });
    return publicListing(created);
  });
}

export async function getListing(deps: ListingsDeps, id: string): Promise<Listing> {
  const listing = await deps.listings.findById(id);
  if (!listing) throw notFound('The listing');
  return publicListing(listing);
}

export async function listListings(deps: ListingsDeps, query: z.infer<typeof contracts.listingsQuery>): Promise<contracts.Page<Listing>> {
  const { items, total } = await deps.listings.list({ status: query.status, sellerId: query.sellerId, text: query.q }, query.limit, query.offset);
  return { items: items.map(publicListing), limit: query.limit, offset: query.offset, total };
}

function assertChangeable(listing: ListingRecord): void {
  if (listing.status === 'reserved') throw listingErrors.reservedForEdit();
  if (listing.status === 'sold') throw listingErrors.sold();
}

/** A new price must be one Stripe charges in the listing's currency (a new listing's is checked by its schema). */
function assertChargeablePrice(listing: ListingRecord, priceCents: number): void {
  // A currency from before the supported list cannot be charged whatever the price; payments refuses it.
  if (!contracts.isCurrencyCode(listing.currency)) return;
  const problem = contracts.amountProblem(priceCents, listing.currency);
  if (problem) throw listingErrors.priceNotChargeable(listing.currency, problem);
}

/** Seller only; refused while a checkout holds the listing or after it sold, or for a price its currency cannot be charged. */
export async function updateListing(deps: ListingsDeps, actor: Actor, id: string, changes: z.infer<typeof contracts.updateListingBody>): Promise<Listing> {
  return transact(deps.db, async (trx) => {
    const listing = await deps.listings.findById(id, trx, true);
    if (!listing) throw notFound('The listing');
    if (listing.sellerId !== actor.id) throw listingErrors.notSeller();
    assertChangeable(listing);
    if (changes.priceCents !== undefined) assertChargeablePrice(listing, changes.priceCents);
    if (!(await deps.listings.updateIfAvailable(id, listing.version, changes, trx))) throw listingErrors.editConflict();
    const updated = publicListing((await deps.listings.findById(id, trx)) as ListingRecord);
    await deps.outbox.publish(trx, 'listing.updated', { listing: updated });
    return updated;
  });
}

export async function deleteListing(deps: ListingsDeps, actor: Actor, id: string): Promise<void> {
  await transact(deps.db, async (trx) => {
    const listing = await deps.listings.findById(id, trx, true);
    if (!listing) throw notFound('The listing');
    if (listing.sellerId !== actor.id && actor.role !== 'admin') throw listingErrors.notSellerOrAdmin();
    assertChangeable(listing);
    if (!(await deps.listings.deleteIfAvailable(id, trx))) throw listingErrors.editConflict();
    await removeGoodsOf(deps, id, trx);
    await deps.outbox.publish(trx, 'listing.deleted', { listing: publicListing(listing) });
  });
}

/** On `user.deleted`: the seller's available listings are withdrawn; reserved ones go when released. */
export async function withdrawSellerListings(deps: ListingsDeps, sellerId: string, trx: Knex.Transaction): Promise<number> {
  await deps.listings.recordDeletedSeller(sellerId, trx);
  const listings = await deps.listings.availableOfSeller(sellerId, trx);
  for (const listing of listings) {
    await deps.listings.deleteById(listing.id, trx);
    await removeGoodsOf(deps, listing.id, trx);
    await deps.outbox.publish(trx, 'listing.deleted', { listing: publicListing(listing) });
  }
  return listings.length;
}
