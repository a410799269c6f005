import { type Logger, type RunningService, startRpcService } from '@market/common';
import type { ListingsConfig } from './config';
import { GoodsRepository } from './data-access/goods-repository';
import { MysqlGoodsStore } from './data-access/goods-store';
import { ListingRepository } from './data-access/listing-repository';
import { migrations } from './data-access/migrations';
import { subscribeListings } from './entry-points/events';
import { serveListings } from './entry-points/rpc';

export function startListingsService(config: Readonly<ListingsConfig>, logger?: Logger): Promise<RunningService> {
  return startRpcService({
    name: 'listings-service',
    database: 'listings',
    config,
    migrations,
    ...(logger ? { logger } : {}),
    wire: ({ db, outbox, rpc, events, logger: serviceLogger }) => {
      const deps = { db, outbox, listings: new ListingRepository(db), goods: new GoodsRepository(db), goodsStore: new MysqlGoodsStore(db), logger: serviceLogger };
      serveListings(rpc, deps);
      subscribeListings(events, deps);
    },
  });
}
