import type { Knex, Outbox } from '@market/common';
import type { ListingRepository } from '../data-access/listing-repository';

export interface ListingsDeps {
  db: Knex;
  listings: ListingRepository;
  outbox: Outbox;
}
