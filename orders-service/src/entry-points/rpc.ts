import { requireActor, type RpcServer } from '@market/common';
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
  rpc
    .serve('orders.create', async ({ listingId }, { actor }) => ({ order: await createOrder(deps, requireActor(actor), listingId) }))
    .serve('orders.list', async (query, { actor }) => listOrders(deps, requireActor(actor), query))
    .serve('orders.get', async ({ id }, { actor }) => ({ order: await getOrder(deps, requireActor(actor), id) }))
    .serve('orders.cancel', async ({ id }, { actor }) => ({ order: await cancelOrder(deps, requireActor(actor), id) }))
    .serve('orders.complete', async ({ id }, { actor }) => ({ order: await completeOrder(deps, requireActor(actor), id) }))
    .serve('orders.refund', async ({ id }, { actor }) => ({ order: await refundOrder(deps, requireActor(actor), id) }))
    .serve('orders.joinWaitlist', async ({ listingId }, { actor }) => ({ entry: await joinWaitlist(deps, requireActor(actor), listingId) }))
    .serve('orders.leaveWaitlist', async ({ listingId }, { actor }) => {
      await leaveWaitlist(deps, requireActor(actor), listingId);
      return {};
    })
    .serve('orders.listWaitlist', async (_payload, { actor }) => listWaitlist(deps, requireActor(actor)))
    .serve('orders.goods', async ({ id }, { actor }) => ({ goods: await getOrderGoods(deps, requireActor(actor), id) }))
    .serve('orders.download', async ({ token }) => downloadGoods(deps, token));
}
