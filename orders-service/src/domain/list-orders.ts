import type { Actor, contracts } from '@market/common';
import type { z } from 'zod';
import { publicOrder } from './order-view';
import type { OrdersDeps } from './deps';

/** A page of the caller's own orders, newest first. */
export async function listOrders(deps: OrdersDeps, buyer: Actor, query: z.infer<typeof contracts.ordersQuery>): Promise<contracts.Page<contracts.Order>> {
  const { items, total } = await deps.orders.listOfBuyer(buyer.id, query.status, query.limit, query.offset);
  return { items: items.map(publicOrder), limit: query.limit, offset: query.offset, total };
}
