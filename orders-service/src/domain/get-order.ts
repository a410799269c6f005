import { problem } from '@market/common';
import type { Actor, contracts } from '@market/common';
import { publicOrder } from './order-view';
import type { OrdersDeps } from './deps';

/** The buyer's own order; anyone else's is reported as missing, not forbidden. */
export async function getOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  const order = await deps.orders.findById(id);
  if (!order || order.buyerId !== buyer.id) throw problem('not_found', 'The order');
  return publicOrder(order);
}
