import { type Actor, type contracts, domainEvents } from '@market/common';
import { type OrderRecord, publicOrder } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';
import { releaseListingOf, requestBudgetMs } from './listing-sync';
import { orderErrors } from './order-errors';

/**
 * The buyer gives up a pending order; the listing is released before the reply so that it is for sale
 * again "at once". If listings-service does not answer, the order stays cancelled (that is the buyer's
 * decision, and it is committed) and the release is retried by the sweep.
 */
export async function cancelOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  const cancelled = await deps.db.transaction(async (trx) => {
    if (!(await deps.orders.leavePending(id, 'cancelled', { buyerId: buyer.id }, trx))) {
      const order = await deps.orders.findById(id, trx);
      if (!order || order.buyerId !== buyer.id) throw orderErrors.notFound();
      throw orderErrors.notPending(order, 'cancelled');
    }
    const order = (await deps.orders.findById(id, trx)) as OrderRecord;
    await deps.outbox.publish(trx, 'order.cancelled', { order: publicOrder(order) });
    return order;
  });
  domainEvents.inc({ event: 'order_cancelled' });
  await releaseListingOf(deps, cancelled, requestBudgetMs(deps));
  return publicOrder(cancelled);
}
