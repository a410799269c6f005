import { z } from 'zod';
import type { ServiceName } from '../auth/service-identity';
import { goodsFileReply, goodsReply, listingPage, listingReply, listingsRpc, releasedListingReply } from './listings';
import { downloadReply, orderGoodsReply, orderPage, orderReply, ordersRpc, waitlistEntryReply, waitlistReply } from './orders';
import { couponListReply, couponReply, paymentListReply, paymentReply, paymentsRpc, sandboxIntentReply, stripeWebhookReply } from './payments';

/**
 * One RPC method: what its request must be, what its reply is, and which services may call it.
 * A method meant for one caller (a reservation, a sale, completing a paid order) refuses every other
 * one, even a genuine service: the broker is not a trust boundary.
 */
export interface RpcMethodContract {
  request: z.ZodType;
  reply: z.ZodType;
  callers: readonly ServiceName[];
}

export type RpcContractMap = Record<string, RpcMethodContract>;

/** The reply of a method that only acts (a delete, leaving a waiting list): nothing to say. */
const noContent = z.object({}).strict();

/**
 * Every RPC method on the bus, `service.action` → its contract. The server validates a request against
 * `request` before its handler sees it, and its handler's answer against `reply` before sending it; the
 * client validates the reply it receives.
 */
export const rpcMethods = {
  'listings.create': { request: listingsRpc.create, reply: listingReply, callers: ['api-gateway'] },
  // orders asks who sells a listing before someone joins its waiting list.
  'listings.get': { request: listingsRpc.get, reply: listingReply, callers: ['api-gateway', 'orders'] },
  'listings.list': { request: listingsRpc.list, reply: listingPage, callers: ['api-gateway'] },
  'listings.update': { request: listingsRpc.update, reply: listingReply, callers: ['api-gateway'] },
  'listings.delete': { request: listingsRpc.delete, reply: noContent, callers: ['api-gateway'] },
  'listings.reserve': { request: listingsRpc.reserve, reply: listingReply, callers: ['orders'] },
  'listings.release': { request: listingsRpc.release, reply: releasedListingReply, callers: ['orders'] },
  'listings.markSold': { request: listingsRpc.markSold, reply: listingReply, callers: ['orders'] },
  'listings.transfer': { request: listingsRpc.transfer, reply: listingReply, callers: ['orders'] },
  // The goods: the seller's through the gateway, a buyer's only through orders, which checks the order.
  'listings.putGoodsText': { request: listingsRpc.putGoodsText, reply: goodsReply, callers: ['api-gateway'] },
  'listings.putGoodsFile': { request: listingsRpc.putGoodsFile, reply: goodsReply, callers: ['api-gateway'] },
  'listings.getGoods': { request: listingsRpc.getGoods, reply: goodsReply, callers: ['api-gateway'] },
  'listings.orderGoods': { request: listingsRpc.orderGoods, reply: goodsReply, callers: ['orders'] },
  'listings.goodsFile': { request: listingsRpc.goodsFile, reply: goodsFileReply, callers: ['orders'] },
  'orders.create': { request: ordersRpc.create, reply: orderReply, callers: ['api-gateway'] },
  'orders.list': { request: ordersRpc.list, reply: orderPage, callers: ['api-gateway'] },
  'orders.get': { request: ordersRpc.get, reply: orderReply, callers: ['api-gateway', 'payments'] },
  'orders.cancel': { request: ordersRpc.cancel, reply: orderReply, callers: ['api-gateway'] },
  'orders.complete': { request: ordersRpc.complete, reply: orderReply, callers: ['payments'] },
  'orders.refund': { request: ordersRpc.refund, reply: orderReply, callers: ['payments'] },
  'orders.joinWaitlist': { request: ordersRpc.joinWaitlist, reply: waitlistEntryReply, callers: ['api-gateway'] },
  'orders.leaveWaitlist': { request: ordersRpc.leaveWaitlist, reply: noContent, callers: ['api-gateway'] },
  'orders.listWaitlist': { request: ordersRpc.listWaitlist, reply: waitlistReply, callers: ['api-gateway'] },
  'orders.goods': { request: ordersRpc.goods, reply: orderGoodsReply, callers: ['api-gateway'] },
  'orders.download': { request: ordersRpc.download, reply: downloadReply, callers: ['api-gateway'] },
  'payments.create': { request: paymentsRpc.create, reply: paymentReply, callers: ['api-gateway'] },
  'payments.list': { request: paymentsRpc.list, reply: paymentListReply, callers: ['api-gateway'] },
  'payments.refresh': { request: paymentsRpc.refresh, reply: paymentReply, callers: ['api-gateway'] },
  'payments.refund': { request: paymentsRpc.refund, reply: paymentReply, callers: ['api-gateway'] },
  // The gateway only carries the raw event: payments-service verifies Stripe's signature itself.
  'payments.stripeWebhook': { request: paymentsRpc.stripeWebhook, reply: stripeWebhookReply, callers: ['api-gateway'] },
  'payments.sandboxAuthenticate': { request: paymentsRpc.sandboxAuthenticate, reply: sandboxIntentReply, callers: ['api-gateway'] },
  'payments.createCoupon': { request: paymentsRpc.createCoupon, reply: couponReply, callers: ['api-gateway'] },
  'payments.listCoupons': { request: paymentsRpc.listCoupons, reply: couponListReply, callers: ['api-gateway'] },
} satisfies RpcContractMap;

export type RpcMethods = typeof rpcMethods;
/** Generic over the map, so a test can serve methods of its own; services use `rpcMethods`. */
export type MethodOf<C extends RpcContractMap> = keyof C & string;
/** What a caller passes to `call` (before defaults and transforms). */
export type RequestOf<C extends RpcContractMap, M extends MethodOf<C>> = z.input<C[M]['request']>;
/** What a handler receives (parsed). */
export type PayloadOf<C extends RpcContractMap, M extends MethodOf<C>> = z.output<C[M]['request']>;
/** What a handler returns (before the reply schema's defaults and transforms). */
export type ResultOf<C extends RpcContractMap, M extends MethodOf<C>> = z.input<C[M]['reply']>;
/** What `call` resolves to (parsed). */
export type ReplyOf<C extends RpcContractMap, M extends MethodOf<C>> = z.output<C[M]['reply']>;

export type RpcMethod = MethodOf<RpcMethods>;
