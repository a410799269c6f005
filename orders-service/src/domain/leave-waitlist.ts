import { type Actor, transact } from '@market/common';
import type { OrdersDeps } from './deps';

/**
 * Leaves the line; idempotent (204 whether or not the person was in it). Under the listing's lock, like
 * a join and a hand-over: a bare DELETE took its row and gap locks in the other order from a hand-over's
 * `FOR UPDATE` on the line, and InnoDB broke the deadlock by failing the cancel or expiry (a 503). Now a
 * leave waits for a hand-over in progress and then finds the place gone (the listing was handed to them:
 * their pending order says so), or the hand-over finds it gone and asks the next.
 */
export async function leaveWaitlist(deps: OrdersDeps, person: Actor, listingId: string): Promise<void> {
  await deps.waitlist.ensureListingLock(listingId);
  await transact(deps.db, async (trx) => {
    await deps.waitlist.lockListing(listingId, trx);
    await deps.waitlist.remove(listingId, person.id, trx);
  });
}
