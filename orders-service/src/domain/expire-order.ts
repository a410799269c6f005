import { domainEvents } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';
import { endHold, finishEndedHold } from './hand-over';
import { releaseListingOf } from './listing-sync';

export type ExpiryOutcome =
  | { kind: 'expired' }
  | { kind: 'unknown' }
  /** Complete, refunded, cancelled or expired already: nothing to do. */
  | { kind: 'settled'; status: OrderRecord['status'] }
  /** Still pending and its hold has not ended; `msLeft` by the database clock. */
  | { kind: 'not_due'; msLeft: number };

/**
 * pending → expired, only once the hold has ended by the database clock (a hold never ends early),
 * as one conditional UPDATE, so an expiry racing a cancel or a payment has exactly one winner; the
 * listing goes to the next in its waiting list in the same transaction (hand-over.ts). Safe to call any
 * number of times for the same order (the queue and the sweep both do).
 */
export async function expireOrder(deps: OrdersDeps, id: string, releaseBudgetMs: number): Promise<ExpiryOutcome> {
  const outcome = await endHold(deps, id, 'expired', { hold: 'due' });
  if (outcome) {
    domainEvents.inc({ event: 'order_expired' });
    deps.logger.info('order expired', { orderId: id, listingId: outcome.ended.listingId, handedOverTo: outcome.next?.id });
    await finishEndedHold(deps, outcome, releaseBudgetMs);
    return { kind: 'expired' };
  }

  const order = await deps.orders.findById(id);
  if (!order) return { kind: 'unknown' };
  if (order.status === 'pending') return { kind: 'not_due', msLeft: Math.max(0, (await deps.orders.msUntilExpiry(id)) ?? 0) };
  // A release that did not go through when the order was cancelled or expired: try again while here.
  if ((order.status === 'cancelled' || order.status === 'expired') && !order.listingReleased) await releaseListingOf(deps, order, releaseBudgetMs);
  return { kind: 'settled', status: order.status };
}
