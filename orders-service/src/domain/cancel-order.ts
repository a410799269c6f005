import { type Actor, type contracts, domainEvents, problem } from '@market/common';
import { publicOrder } from './order-view';
import type { OrdersDeps } from './deps';
import { endHold, finishEndedHold } from './hand-over';
import { requestBudgetMs } from './listing-sync';
import { orderErrors } from './order-errors';

/**
 * The buyer gives up a pending order; the listing goes to the first person in its waiting list, or is
 * released to everyone when nobody waits, before the reply so that it happens "at once". If
 * listings-service does not answer, the order stays cancelled (that is the buyer's decision, and it is
 * committed, with the hand-over) and the sweep finishes the listing's side.
 */
export async function cancelOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  const outcome = await endHold(deps, id, 'cancelled', { buyerId: buyer.id });
  if (!outcome) {
    const order = await deps.orders.findById(id);
    if (!order || order.buyerId !== buyer.id) throw problem('not_found', 'The order');
    throw orderErrors.notPending(order, 'cancelled');
  }
  domainEvents.inc({ event: 'order_cancelled' });
  await finishEndedHold(deps, outcome, requestBudgetMs(deps));
  return publicOrder(outcome.ended);
}
