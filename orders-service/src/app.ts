import { type Logger, type RunningService, startRpcService } from '@market/common';
import type { OrdersConfig } from './config';
import { DownloadLinkRepository } from './data-access/download-link-repository';
import { ListingsClient } from './data-access/listings-client';
import { migrations } from './data-access/migrations';
import { OrderRepository } from './data-access/order-repository';
import { WaitlistRepository } from './data-access/waitlist-repository';
import type { OrdersDeps } from './domain/deps';
import { subscribeOrders } from './entry-points/events';
import { consumeOrderExpiries, expiryScheduler, openOrderExpiries } from './entry-points/expiry';
import { serveOrders } from './entry-points/rpc';
import { Sweep, type SweepOptions } from './entry-points/sweep';

export interface OrdersServiceOptions {
  /** The sweep's period (60 s by default); tests shorten it. Not a setting: production has no reason to change it. */
  sweepIntervalMs?: SweepOptions['intervalMs'];
}

export function startOrdersService(config: Readonly<OrdersConfig>, logger?: Logger, options: OrdersServiceOptions = {}): Promise<RunningService> {
  return startRpcService({
    name: 'orders-service',
    database: 'orders',
    config,
    migrations,
    ...(logger ? { logger } : {}),
    wire: async (parts) => {
      // The publishing side first: the deps schedule expiries with it, and the consumer expires with the deps.
      const expiries = await openOrderExpiries(parts.broker, {
        prefix: config.BUS_PREFIX,
        holdSeconds: [...new Set([config.ORDER_TTL_SECONDS, config.WAITLIST_HOLD_SECONDS])],
        logger: parts.logger,
      });
      const deps: OrdersDeps = {
        db: parts.db,
        orders: new OrderRepository(parts.db),
        waitlist: new WaitlistRepository(parts.db),
        outbox: parts.outbox,
        revocations: parts.revocations,
        listings: new ListingsClient(parts.rpcClient),
        expiry: expiryScheduler(expiries, parts.logger),
        logger: parts.logger,
        ttlSeconds: config.ORDER_TTL_SECONDS,
        rpcTimeoutMs: config.RPC_TIMEOUT_MS,
        holdLimits: { maxPendingPerBuyer: config.MAX_PENDING_ORDERS_PER_BUYER, reholdCooldownSeconds: config.REHOLD_COOLDOWN_SECONDS },
        waitlistLimits: { holdSeconds: config.WAITLIST_HOLD_SECONDS, maxLength: config.WAITLIST_MAX_LENGTH, maxPerPerson: config.WAITLIST_MAX_PER_PERSON },
        downloadLinks: new DownloadLinkRepository(parts.db),
        downloadLimits: { ttlSeconds: config.DOWNLOAD_LINK_TTL_SECONDS, maxUses: config.DOWNLOAD_LINK_MAX_USES },
      };
      const sweep = new Sweep(deps, { ...(options.sweepIntervalMs ? { intervalMs: options.sweepIntervalMs } : {}) });
      serveOrders(parts.rpc, deps);
      subscribeOrders(parts.events, deps);
      await consumeOrderExpiries(expiries, deps);
      await sweep.start(parts.broker);
      // After the RPC server has drained; the sweep first, since it may still be expiring orders.
      parts.onStop(() => sweep.stop());
      parts.onStop(() => expiries.stop());
    },
  });
}
