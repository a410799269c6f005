import { contracts, requireActor, type RpcServer, validate } from '@market/common';
import { cancelOrder } from '../domain/cancel-order';
import { completeOrder } from '../domain/complete-order';
import { createOrder } from '../domain/create-order';
import type { OrdersDeps } from '../domain/deps';
import { downloadGoods } from '../domain/download-goods';
import { getOrder } from '../domain/get-order';
import { getOrderGoods } from '../domain/get-order-goods';
import { joinWaitlist } from '../domain/join-waitlist';
import { leaveWaitlist } from '../domain/leave-waitlist';
import { listOrders } from '../domain/list-orders';
import { listWaitlist } from '../domain/list-waitlist';
import { refundOrder } from '../domain/refund-order';

// Every order belongs to a person: there is no anonymous or service-wide access, even internally
// (payments-service forwards the buyer's actor). The one exception is a download, whose signed link is
// the bearer: it names no order and opens nothing but one file, a few times, for a few minutes.
export function serveOrders(rpc: RpcServer, deps: OrdersDeps): void {
  const { ordersRpc: schemas } = contracts;
  rpc
    .serve('orders.create', async (payload, { actor }) => ({ order: await createOrder(deps, requireActor(actor), validate(schemas.create, payload, 'message').listingId) }))
    .serve('orders.list', async (payload, { actor }) => listOrders(deps, requireActor(actor), validate(schemas.list, payload, 'message')))
    .serve('orders.get', async (payload, { actor }) => ({ order: await getOrder(deps, requireActor(actor), validate(schemas.get, payload, 'message').id) }))
    .serve('orders.cancel', async (payload, { actor }) => ({ order: await cancelOrder(deps, requireActor(actor), validate(schemas.cancel, payload, 'message').id) }))
    .serve('orders.complete', async (payload, { actor }) => ({ order: await completeOrder(deps, requireActor(actor), validate(schemas.complete, payload, 'message').id) }))
    .serve('orders.refund', async (payload, { actor }) => ({ order: await refundOrder(deps, requireActor(actor), validate(schemas.refund, payload, 'message').id) }))
    .serve('orders.joinWaitlist', async (payload, { actor }) => ({ entry: await joinWaitlist(deps, requireActor(actor), validate(schemas.joinWaitlist, payload, 'message').listingId) }))
    .serve('orders.leaveWaitlist', async (payload, { actor }) => {
      await leaveWaitlist(deps, requireActor(actor), validate(schemas.leaveWaitlist, payload, 'message').listingId);
      return {};
    })
    .serve('orders.listWaitlist', async (payload, { actor }) => {
      validate(schemas.listWaitlist, payload, 'message');
      return listWaitlist(deps, requireActor(actor));
    })
    .serve('orders.goods', async (payload, { actor }) => ({ goods: await getOrderGoods(deps, requireActor(actor), validate(schemas.goods, payload, 'message').id) }))
    .serve('orders.download', async (payload) => downloadGoods(deps, validate(schemas.download, payload, 'message').token));
}
