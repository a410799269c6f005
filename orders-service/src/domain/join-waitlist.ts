import { type Actor, type contracts, isDuplicateKey, problem, transact } from '@market/common';
import type { OrdersDeps } from './deps';
import { orderErrors } from './order-errors';

/**
 * Gets in line for a held listing. listings-service says whether it exists and who sells it; whether
 * someone holds it is this service's own pending order, read under the listing's lock: the end of a hold
 * takes the same lock to decide who gets it next, so a join either comes before (and is in line for that
 * hand-over) or after (and is told the listing is available, or sold). The person's lock row makes their
 * parallel joins count each other against WAITLIST_MAX_PER_PERSON; it must exist for the hand-over too.
 * A refusal changes nothing.
 */
export async function joinWaitlist(deps: OrdersDeps, person: Actor, listingId: string): Promise<contracts.WaitlistEntry> {
  const listing = await deps.listings.get(listingId);
  if (listing.sellerId === person.id) throw problem('own_listing', 'waitlist');
  if (listing.status === 'sold') throw problem('listing_sold');
  const { maxLength, maxPerPerson } = deps.waitlistLimits;

  await deps.waitlist.ensureListingLock(listingId);
  await deps.orders.ensureBuyerLock(person.id);
  try {
    return await transact(deps.db, 
      async (trx) => {
        // Always the listing's lock before a person's (the hand-over takes them in this order too).
        await deps.waitlist.lockListing(listingId, trx);
        await deps.orders.lockBuyer(person.id, trx);
        const holder = await deps.orders.pendingOfListing(listingId, trx);
        if (!holder) throw (await deps.orders.listingWasSold(listingId, trx)) ? problem('listing_sold') : problem('listing_available');
        if (holder.buyerId === person.id) throw orderErrors.alreadyHolding(holder.id);
        const mine = await deps.waitlist.find(listingId, person.id, trx);
        if (mine) throw orderErrors.alreadyWaiting(await deps.waitlist.positionOf(mine, trx));
        if ((await deps.waitlist.lengthOf(listingId, trx)) >= maxLength) throw problem('waitlist_full', maxLength);
        if ((await deps.waitlist.countOfBuyer(person.id, trx)) >= maxPerPerson) throw problem('too_many_waitlists', maxPerPerson);
        const entry = await deps.waitlist.insert(listingId, person.id, trx);
        return { listingId, position: await deps.waitlist.positionOf(entry, trx), joinedAt: entry.joinedAt };
      },
      { isolationLevel: 'read committed' },
    );
  } catch (err) {
    // Cannot happen while the locks are held; kept as the same answer should a row outlive them.
    if (isDuplicateKey(err)) throw orderErrors.alreadyWaiting(1);
    throw err;
  }
}
