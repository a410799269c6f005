import type { ServiceName } from '../auth/service-identity';

/**
 * Who may call each RPC method. A method meant for one caller (a reservation, a sale, completing a
 * paid order) refuses every other one, even a genuine service: the broker is not a trust boundary.
 */
export const rpcCallers: Record<string, readonly ServiceName[]> = {
  'listings.create': ['api-gateway'],
  // orders asks who sells a listing before someone joins its waiting list.
  'listings.get': ['api-gateway', 'orders'],
  'listings.list': ['api-gateway'],
  'listings.update': ['api-gateway'],
  'listings.delete': ['api-gateway'],
  'listings.reserve': ['orders'],
  'listings.release': ['orders'],
  'listings.markSold': ['orders'],
  'listings.transfer': ['orders'],
  // The goods: the seller's through the gateway, a buyer's only through orders, which checks the order.
  'listings.putGoodsText': ['api-gateway'],
  'listings.putGoodsFile': ['api-gateway'],
  'listings.getGoods': ['api-gateway'],
  'listings.orderGoods': ['orders'],
  'listings.goodsFile': ['orders'],
  'orders.create': ['api-gateway'],
  'orders.list': ['api-gateway'],
  'orders.get': ['api-gateway', 'payments'],
  'orders.cancel': ['api-gateway'],
  'orders.complete': ['payments'],
  'orders.refund': ['payments'],
  'orders.joinWaitlist': ['api-gateway'],
  'orders.leaveWaitlist': ['api-gateway'],
  'orders.listWaitlist': ['api-gateway'],
  'orders.goods': ['api-gateway'],
  'orders.download': ['api-gateway'],
  'payments.create': ['api-gateway'],
  'payments.list': ['api-gateway'],
  'payments.refresh': ['api-gateway'],
  'payments.refund': ['api-gateway'],
  // The gateway only carries the raw event: payments-service verifies Stripe's signature itself.
  'payments.stripeWebhook': ['api-gateway'],
  'payments.sandboxAuthenticate': ['api-gateway'],
  'payments.createCoupon': ['api-gateway'],
  'payments.listCoupons': ['api-gateway'],
};

const EVENT_OWNERS: Record<string, ServiceName> = { user: 'users', listing: 'listings', order: 'orders', payment: 'payments' };

/** Events are accepted only from the service that owns their subject: `user.*` from users, and so on. */
export function eventOwner(type: string): ServiceName | undefined {
  return EVENT_OWNERS[type.split('.')[0] ?? ''];
}

/** The service that serves `listings.get` is `listings`. */
export function methodOwner(method: string): string {
  return method.split('.')[0] ?? '';
}
