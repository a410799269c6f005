import type { Knex, Logger, Outbox } from '@market/common';
import type { CouponAttemptRepository } from '../data-access/coupon-attempt-repository';
import type { CouponRepository } from '../data-access/coupon-repository';
import type { OrdersClient } from '../data-access/orders-client';
import type { PaymentRepository } from '../data-access/payment-repository';
import type { ProviderEventRepository } from '../data-access/provider-event-repository';
import type { PaymentProvider, SandboxProvider } from '../providers';
import type { CouponAttemptLimits } from './coupon-attempts';

export interface PaymentsDeps {
  db: Knex;
  outbox: Outbox;
  logger: Logger;
  payments: PaymentRepository;
  coupons: CouponRepository;
  couponAttempts: CouponAttemptRepository;
  couponAttemptLimits: CouponAttemptLimits;
  orders: OrdersClient;
  provider: PaymentProvider;
  /** The provider when it is the sandbox: its stand-in for Stripe.js (3-D Secure) is served too. */
  sandbox?: SandboxProvider;
  providerEvents: ProviderEventRepository;
  /** STRIPE_WEBHOOK_SECRET: webhooks are refused without it. */
  webhookSecret?: string;
}
