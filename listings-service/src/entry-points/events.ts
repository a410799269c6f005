import type { EventSubscriber } from '@market/common';
import type { ListingsDeps } from '../domain/deps';
import { withdrawSellerListings } from '../domain/withdraw-seller-listings';

export function subscribeListings(events: EventSubscriber, deps: ListingsDeps): void {
  events.subscribe({
    queue: 'listings.user-deleted',
    patterns: ['user.deleted'],
    dedupe: deps.db,
    handler: async (event, trx) => {
      await withdrawSellerListings(deps, event.payload.userId, trx);
    },
  });
}
