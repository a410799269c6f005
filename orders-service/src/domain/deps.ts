import type { Knex, Logger, Outbox, Revocations } from '@market/common';
import type { DownloadLinkRepository } from '../data-access/download-link-repository';
import type { ListingsClient } from '../data-access/listings-client';
import type { OrderRepository } from '../data-access/order-repository';
import type { WaitlistRepository } from '../data-access/waitlist-repository';

/** Starts the clock of a new order's hold (the RabbitMQ wait queue); failures are logged, never thrown. */
export interface ExpiryScheduler {
  schedule(orderId: string, holdSeconds: number): Promise<void>;
}

export interface OrdersDeps {
  db: Knex;
  orders: OrderRepository;
  waitlist: WaitlistRepository;
  outbox: Outbox;
  /** What users-service announced about accounts (a deleted person is passed over in a waiting list). */
  revocations: Revocations;
  listings: ListingsClient;
  expiry: ExpiryScheduler;
  logger: Logger;
  ttlSeconds: number;
  rpcTimeoutMs: number;
  holdLimits: HoldLimits;
  waitlistLimits: WaitlistLimits;
  downloadLinks: DownloadLinkRepository;
  downloadLimits: DownloadLimits;
}

/** DOWNLOAD_LINK_TTL_SECONDS and DOWNLOAD_LINK_MAX_USES. */
export interface DownloadLimits {
  ttlSeconds: number;
  maxUses: number;
}

/** WAITLIST_HOLD_SECONDS, WAITLIST_MAX_LENGTH and WAITLIST_MAX_PER_PERSON. */
export interface WaitlistLimits {
  holdSeconds: number;
  maxLength: number;
  maxPerPerson: number;
}

/** MAX_PENDING_ORDERS_PER_BUYER and REHOLD_COOLDOWN_SECONDS (0: no cooldown). */
export interface HoldLimits {
  maxPendingPerBuyer: number;
  reholdCooldownSeconds: number;
}
