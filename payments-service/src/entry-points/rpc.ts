import { contracts, requireActor, type RpcServer, validate } from '@market/common';
import type { PaymentsDeps } from '../domain/deps';
import { listPayments } from '../domain/list-payments';
import { createCoupon, listCoupons } from '../domain/manage-coupons';
import { payForOrder } from '../domain/pay-for-order';

export function servePayments(rpc: RpcServer, deps: PaymentsDeps): void {
  const { paymentsRpc: schemas } = contracts;
  rpc
    .serve('payments.create', async (payload, { actor }) => {
      const { payment, idempotencyKey } = validate(schemas.create, payload, 'message');
      return payForOrder(deps, requireActor(actor), payment, idempotencyKey);
    })
    .serve('payments.list', async (payload, { actor }) => listPayments(deps, requireActor(actor), validate(schemas.list, payload, 'message').orderId))
    .serve('payments.createCoupon', async (payload, { actor }) => ({ coupon: await createCoupon(deps, requireActor(actor), validate(schemas.createCoupon, payload, 'message')) }))
    .serve('payments.listCoupons', async (payload, { actor }) => {
      validate(schemas.listCoupons, payload, 'message');
      return listCoupons(deps, requireActor(actor));
    });
}
