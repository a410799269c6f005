import { type Actor, contracts, type RpcServer, unauthorized, validate } from '@market/common';
import type { PaymentsDeps } from '../domain/deps';
import { listPayments } from '../domain/list-payments';
import { createCoupon, listCoupons } from '../domain/manage-coupons';
import { payForOrder } from '../domain/pay-for-order';

const signedIn = (actor: Actor | null): Actor => {
  if (!actor) throw unauthorized();
  return actor;
};

export function servePayments(rpc: RpcServer, deps: PaymentsDeps): void {
  const { paymentsRpc: schemas } = contracts;
  rpc
    .serve('payments.create', async (payload, { actor }) => {
      const { payment, idempotencyKey } = validate(schemas.create, payload, 'message');
      return payForOrder(deps, signedIn(actor), payment, idempotencyKey);
    })
    .serve('payments.list', async (payload, { actor }) => listPayments(deps, signedIn(actor), validate(schemas.list, payload, 'message').orderId))
    .serve('payments.createCoupon', async (payload, { actor }) => ({ coupon: await createCoupon(deps, signedIn(actor), validate(schemas.createCoupon, payload, 'message')) }))
    .serve('payments.listCoupons', async (payload, { actor }) => {
      validate(schemas.listCoupons, payload, 'message');
      return listCoupons(deps, signedIn(actor));
    });
}
