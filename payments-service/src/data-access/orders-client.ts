import type { Actor, contracts, RpcClient } from '@market/common';

/** orders-service owns the orders; payments asks it over RPC, always as the order's buyer. */
export interface OrdersClient {
  get(id: string, buyer: Actor): Promise<contracts.Order>;
  /** pending → complete, refused with 409 order_not_pending once the order is not pending or past expiresAt. */
  complete(id: string, buyer: Actor): Promise<contracts.Order>;
  /** complete → refunded once the sale's money went back; an order already refunded is answered as it is. */
  refund(id: string, buyer: Actor): Promise<contracts.Order>;
}

export function createOrdersClient(rpc: RpcClient): OrdersClient {
  return {
    get: async (id, buyer) => (await rpc.call('orders.get', { id }, { onBehalfOf: buyer })).order,
    complete: async (id, buyer) => (await rpc.call('orders.complete', { id }, { onBehalfOf: buyer })).order,
    refund: async (id, buyer) => (await rpc.call('orders.refund', { id }, { onBehalfOf: buyer })).order,
  };
}
