import { randomUUID } from 'node:crypto';
import { type Actor, AppError, type contracts, domainEvents, isDuplicateKey, problem, transact } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';
import { publicOrder } from './order-view';
import { admitCheckoutAttempt } from './buyer-holds';
import type { OrdersDeps } from './deps';
import { requestBudgetMs, undoReservation } from './listing-sync';

type Order = contracts.Order;

/**
 * Checkout, step one: hold the listing for ORDER_TTL_SECONDS.
 *
 * First the buyer's own bounds (how many they hold, what they already hold or just cancelled); they
 * admit the attempt or refuse before anything is reserved.
 * The reservation is listings-service's single conditional UPDATE (available → reserved for this order
 * id), so of any number of buyers exactly one wins; its refusals (404, 403 own listing, 409 sold or
 * reserved) go back to the buyer unchanged. The order is recorded only after that, with the price the
 * listing had when it was reserved. A reservation whose order is not recorded is undone at once, and a
 * `reservation_attempts` row written before it lets the sweep undo it should this process die first.
 */
export async function createOrder(deps: OrdersDeps, buyer: Actor, listingId: string): Promise<Order> {
  const orderId = randomUUID();
  await admitCheckoutAttempt(deps, buyer, listingId, orderId);

  let listing: contracts.Listing;
  try {
    listing = await deps.listings.reserve(buyer, listingId, orderId);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      // A refusal: nothing was reserved, so there is nothing to undo; the attempt row would only count
      // against the buyer's holds until the sweep removed it.
      await deps.orders.deleteAttempt(orderId).catch(() => undefined);
    } else {
      // A timeout or a lost connection: the reservation may have happened without us hearing of it.
      await undoReservation(deps, listingId, orderId, requestBudgetMs(deps));
    }
    throw err;
  }

  let order: OrderRecord;
  try {
    order = await transact(deps.db, async (trx) => {
      // Deleting the attempt in this transaction is what makes the reservation "owned" by the order.
      // It is gone only if the sweep judged this request dead and released the listing: give up then.
      if (!(await deps.orders.deleteAttempt(orderId, trx))) throw problem('checkout_interrupted');
      const created = await deps.orders.insertPending(
        { id: orderId, buyerId: buyer.id, listingId, priceCents: listing.priceCents, currency: listing.currency },
        deps.ttlSeconds,
        trx,
      );
      await deps.outbox.publish(trx, 'order.created', { order: publicOrder(created) });
      return created;
    });
  } catch (err) {
    await undoReservation(deps, listingId, orderId, requestBudgetMs(deps));
    // The one-pending-order-per-listing index: another order already holds this listing.
    if (isDuplicateKey(err)) throw problem('listing_reserved');
    throw err;
  }

  domainEvents.inc({ event: 'order_created' });
  // After the commit, so that the expiry never looks for an order that does not exist (yet).
  await deps.expiry.schedule(order.id, deps.ttlSeconds);
  return publicOrder(order);
}
