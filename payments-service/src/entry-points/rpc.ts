import { requireActor, type RpcServer } from '@market/common';
import type { PaymentsDeps } from '../domain/deps';
import { listPayments } from '../domain/list-payments';
import { createCoupon } from '../domain/create-coupon';
import { listCoupons } from '../domain/list-coupons';
import { authenticateSandboxPayment } from '../domain/authenticate-sandbox-payment';
import { payForOrder } from '../domain/pay-for-order';
import { receiveStripeWebhook } from '../domain/receive-stripe-webhook';
import { refreshPayment } from '../domain/refresh-payment';
import { refundPayment } from '../domain/refund-payment';

export function servePayments(rpc: RpcServer, deps: PaymentsDeps): void {
  rpc
    .serve('payments.create', async ({ payment, idempotencyKey }, { actor }) => payForOrder(deps, requireActor(actor), payment, idempotencyKey))
    .serve('payments.refresh', async ({ id }, { actor }) => refreshPayment(deps, requireActor(actor), id))
    .serve('payments.refund', async ({ id }, { actor }) => refundPayment(deps, requireActor(actor), id))
    // No actor: Stripe is the caller, and its signature (verified in receiveStripeWebhook) is the credential.
    .serve('payments.stripeWebhook', async (webhook) => receiveStripeWebhook(deps, webhook))
    // No actor: as with Stripe.js, the intent's client secret is the credential.
    .serve('payments.sandboxAuthenticate', async (challenge) => authenticateSandboxPayment(deps, challenge))
    .serve('payments.list', async (query, { actor }) => listPayments(deps, requireActor(actor), query))
    .serve('payments.createCoupon', async (input, { actor }) => ({ coupon: await createCoupon(deps, requireActor(actor), input) }))
    .serve('payments.listCoupons', async (query, { actor }) => listCoupons(deps, requireActor(actor), query));
}
