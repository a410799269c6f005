import type { Knex, Logger, Outbox } from '@market/common';
import type { GoodsRepository } from '../data-access/goods-repository';
import type { GoodsStore } from '../data-access/goods-store';
import type { ListingRepository } from '../data-access/listing-repository';

export interface ListingsDeps {
  db: Knex;
  listings: ListingRepository;
  outbox: Outbox;
  /** What each listing's goods are; their files' bytes are in `goodsStore`. */
  goods: GoodsRepository;
  goodsStore: GoodsStore;
  logger: Logger;
}
