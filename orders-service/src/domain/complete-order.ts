import { type Actor, type contracts, domainEvents } from '@market/common';
import { type OrderRecord, publicOrder } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';
import { markListingSoldOf, requestBudgetMs } from './listing-sync';
import { orderErrors } from './order-errors';

/**
 * Internal, for payments-service once the charge succeeded: pending → complete, only while the hold
 * lasts (a payment racing the expiry has exactly one winner) and only for the order's buyer, whose
 * actor payments-service forwards. Then the listing is marked sold; if listings-service does not
 * answer, the sweep retries, since the order is paid either way.
 */
export async function completeOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  const completed = await deps.db.transaction(async (trx) => {
    if (!(await deps.orders.leavePending(id, 'complete', { buyerId: buyer.id, hold: 'unexpired' }, trx))) {
      const order = await deps.orders.findById(id, trx);
      if (!order || order.buyerId !== buyer.id) throw orderErrors.notFound();
      throw orderErrors.notPending(order, 'paid');
    }
    const order = (await deps.orders.findById(id, trx)) as OrderRecord;
    await deps.outbox.publish(trx, 'order.completed', { order: publicOrder(order) });
    return order;
  });
  domainEvents.inc({ event: 'order_completed' });
  await markListingSoldOf(deps, completed, requestBudgetMs(deps));
  return publicOrder(completed);
}
