import type { Actor, contracts } from '@market/common';
import type { OrdersDeps } from './deps';

/** The caller's places, oldest first, each with its position now (1: theirs when the hold ends). */
export async function listWaitlist(deps: OrdersDeps, person: Actor): Promise<{ items: contracts.WaitlistEntry[] }> {
  const places = await deps.waitlist.placesOf(person.id);
  return { items: places.map(({ listingId, position, joinedAt }) => ({ listingId, position, joinedAt })) };
}
