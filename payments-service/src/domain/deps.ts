import type { Knex, Logger, Outbox } from '@market/common';
import type { CouponRepository } from '../data-access/coupon-repository';
import type { OrdersClient } from '../data-access/orders-client';
import type { PaymentRepository } from '../data-access/payment-repository';
import type { PaymentProvider } from '../providers';

export interface PaymentsDeps {
  db: Knex;
  outbox: Outbox;
  logger: Logger;
  payments: PaymentRepository;
  coupons: CouponRepository;
  orders: OrdersClient;
  provider: PaymentProvider;
}
