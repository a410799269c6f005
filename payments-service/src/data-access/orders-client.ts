import { type Actor, AppError, contracts, type RpcClient } from '@market/common';

/** orders-service owns the orders; payments asks it over RPC, always as the order's buyer. */
export interface OrdersClient {
  get(id: string, buyer: Actor): Promise<contracts.Order>;
  /** pending → complete, refused with 409 order_not_pending once the order is not pending or past expiresAt. */
  complete(id: string, buyer: Actor): Promise<contracts.Order>;
  /** complete → refunded once the sale's money went back; an order already refunded is answered as it is. */
  refund(id: string, buyer: Actor): Promise<contracts.Order>;
}

export function createOrdersClient(rpc: RpcClient): OrdersClient {
  const orderOf = (reply: unknown): contracts.Order => {
    const parsed = contracts.orderReply.safeParse(reply);
    if (!parsed.success) throw new AppError(502, 'upstream_invalid_reply', 'The orders service gave an answer we could not read.');
    return parsed.data.order;
  };
  return {
    get: async (id, buyer) => orderOf(await rpc.call('orders.get', { id }, { onBehalfOf: buyer })),
    complete: async (id, buyer) => orderOf(await rpc.call('orders.complete', { id }, { onBehalfOf: buyer })),
    refund: async (id, buyer) => orderOf(await rpc.call('orders.refund', { id }, { onBehalfOf: buyer })),
  };
}
