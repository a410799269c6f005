import type { Knex, Logger, Outbox } from '@market/common';
import type { ListingsClient } from '../data-access/listings-client';
import type { OrderRepository } from '../data-access/order-repository';

/** Starts the clock of a new order's hold (the RabbitMQ wait queue); failures are logged, never thrown. */
export interface ExpiryScheduler {
  schedule(orderId: string): Promise<void>;
}

export interface OrdersDeps {
  db: Knex;
  orders: OrderRepository;
  outbox: Outbox;
  listings: ListingsClient;
  expiry: ExpiryScheduler;
  logger: Logger;
  ttlSeconds: number;
  rpcTimeoutMs: number;
}
