import { contracts, requireActor, type RpcServer, validate } from '@market/common';
import type { PaymentsDeps } from '../domain/deps';
import { listPayments } from '../domain/list-payments';
import { createCoupon, listCoupons } from '../domain/manage-coupons';
import { authenticateSandboxPayment } from '../domain/authenticate-sandbox-payment';
import { payForOrder } from '../domain/pay-for-order';
import { receiveStripeWebhook } from '../domain/receive-stripe-webhook';
import { refreshPayment } from '../domain/refresh-payment';
import { refundPayment } from '../domain/refund-payment';

export function servePayments(rpc: RpcServer, deps: PaymentsDeps): void {
  const { paymentsRpc: schemas } = contracts;
  rpc
    .serve('payments.create', async (payload, { actor }) => {
      const { payment, idempotencyKey } = validate(schemas.create, payload, 'message');
      return payForOrder(deps, requireActor(actor), payment, idempotencyKey);
    })
    .serve('payments.refresh', async (payload, { actor }) => refreshPayment(deps, requireActor(actor), validate(schemas.refresh, payload, 'message').id))
    .serve('payments.refund', async (payload, { actor }) => refundPayment(deps, requireActor(actor), validate(schemas.refund, payload, 'message').id))
    // No actor: Stripe is the caller, and its signature (verified in receiveStripeWebhook) is the credential.
    .serve('payments.stripeWebhook', async (payload) => receiveStripeWebhook(deps, validate(schemas.stripeWebhook, payload, 'message')))
    // No actor: as with Stripe.js, the intent's client secret is the credential.
    .serve('payments.sandboxAuthenticate', async (payload) => authenticateSandboxPayment(deps, validate(schemas.sandboxAuthenticate, payload, 'message')))
    .serve('payments.list', async (payload, { actor }) => listPayments(deps, requireActor(actor), validate(schemas.list, payload, 'message').orderId))
    .serve('payments.createCoupon', async (payload, { actor }) => ({ coupon: await createCoupon(deps, requireActor(actor), validate(schemas.createCoupon, payload, 'message')) }))
    .serve('payments.listCoupons', async (payload, { actor }) => {
      validate(schemas.listCoupons, payload, 'message');
      return listCoupons(deps, requireActor(actor));
    });
}
