import { contracts } from '@market/common';
import { forgetListing, type RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

export function orderRoutes({ rpc, cache }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/orders', operationId: 'createOrder', tag: 'orders', access: 'signed-in', summary: 'Buy a listing (holds it for ORDER_TTL_SECONDS)',
      body: contracts.createOrderBody,
      success: { status: 201, description: 'The pending order and when its hold ends', schema: contracts.orderReply },
      problems: [403, 404, 409],
      handle: async ({ token, body }) => {
        const reply = await rpc.call('orders.create', body, { token });
        // The listing's status changed with the order: drop it now, so the client's next read never shows the old one.
        await forgetListing(cache, reply.order.listingId);
        return { status: 201, json: reply };
      },
    }),
    defineRoute({
      method: 'get', path: '/orders', operationId: 'listOrders', tag: 'orders', access: 'signed-in', summary: "The caller's orders",
      query: contracts.ordersQuery,
      success: { status: 200, description: "A page of the caller's orders", schema: contracts.orderPage },
      problems: [],
      handle: async ({ token, query }) => ({ status: 200, json: await rpc.call('orders.list', query, { token }) }),
    }),
    defineRoute({
      method: 'get', path: '/orders/:id', operationId: 'getOrder', tag: 'orders', access: 'signed-in', summary: 'An order (its buyer only)',
      params: contracts.idParams,
      success: { status: 200, description: 'The order', schema: contracts.orderReply },
      problems: [404],
      handle: async ({ token, params }) => ({ status: 200, json: await rpc.call('orders.get', { id: params.id }, { token }) }),
    }),
    defineRoute({
      method: 'delete', path: '/orders/:id', operationId: 'cancelOrder', tag: 'orders', access: 'signed-in', summary: 'Cancel a pending order (its buyer only)',
      params: contracts.idParams,
      success: { status: 200, description: 'The cancelled order; the listing is for sale again', schema: contracts.orderReply },
      problems: [404, 409],
      handle: async ({ token, params }) => {
        const reply = await rpc.call('orders.cancel', { id: params.id }, { token });
        await forgetListing(cache, reply.order.listingId);
        return { status: 200, json: reply };
      },
    }),
  ];
}
