import { type Actor, type contracts, domainEvents, problem, transact } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';
import { publicOrder } from './order-view';
import type { OrdersDeps } from './deps';
import { markListingSoldOf, requestBudgetMs } from './listing-sync';
import { orderErrors } from './order-errors';

/**
 * Internal, for payments-service once the charge succeeded: pending → complete, only while the hold
 * lasts (a payment racing the expiry has exactly one winner) and only for the order's buyer, whose
 * actor payments-service forwards. The sale ends the listing's waiting list in the same transaction,
 * under the listing's lock, so no join lands after it. Then the listing is marked sold; if
 * listings-service does not answer, the sweep retries, since the order is paid either way.
 */
export async function completeOrder(deps: OrdersDeps, buyer: Actor, id: string): Promise<contracts.Order> {
  const before = await deps.orders.findById(id);
  if (!before || before.buyerId !== buyer.id) throw problem('not_found', 'The order');
  await deps.waitlist.ensureListingLock(before.listingId);
  const completed = await transact(deps.db, async (trx) => {
    await deps.waitlist.lockListing(before.listingId, trx);
    if (!(await deps.orders.leavePending(id, 'complete', { buyerId: buyer.id, hold: 'unexpired' }, trx))) {
      throw orderErrors.notPending((await deps.orders.findById(id, trx)) as OrderRecord, 'paid');
    }
    const order = (await deps.orders.findById(id, trx)) as OrderRecord;
    await deps.outbox.publish(trx, 'order.completed', { order: publicOrder(order) });
    const waiting = await deps.waitlist.clear(order.listingId, trx);
    if (waiting.length) await deps.outbox.publish(trx, 'order.waitlist_closed', { listingId: order.listingId, buyerIds: waiting });
    return order;
  });
  domainEvents.inc({ event: 'order_completed' });
  await markListingSoldOf(deps, completed, requestBudgetMs(deps));
  return publicOrder(completed);
}
