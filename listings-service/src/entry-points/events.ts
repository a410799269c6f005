import type { EventSubscriber } from '@market/common';
import type { ListingsDeps } from '../domain/deps';
import { withdrawSellerListings } from '../domain/manage-listings';

export function subscribeListings(events: EventSubscriber, deps: ListingsDeps): void {
  events.subscribe({
    queue: 'listings.user-deleted',
    patterns: ['user.deleted'],
    dedupe: deps.db,
    handler: async (event, trx) => {
      if (event.type === 'user.deleted' && trx) await withdrawSellerListings(deps, (event.payload as { userId: string }).userId, trx);
    },
  });
}
