import type { Actor, contracts } from '@market/common';
import { publicOrder } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';
import { orderErrors } from './order-errors';

/** The buyer's own order; anyone else's is reported as missing, not forbidden. */
export async function getOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  const order = await deps.orders.findById(id);
  if (!order || order.buyerId !== buyer.id) throw orderErrors.notFound();
  return publicOrder(order);
}
