import { randomUUID } from 'node:crypto';
import { domainEvents, type Knex, transact } from '@market/common';
import type { OrderRecord, TransitionGuard } from '../data-access/order-repository';
import { publicOrder } from './order-view';
import type { WaitlistEntryRecord } from '../data-access/waitlist-repository';
import { holdRefusal } from './buyer-holds';
import type { OrdersDeps } from './deps';
import { catchUpTransfer, releaseListingOf } from './listing-sync';

/** A hold that ended unpaid, and the order of the person in line who got the listing, if anyone did. */
export interface EndedHold {
  ended: OrderRecord;
  next?: OrderRecord;
}

type PassOverReason = 'deleted' | 'hold_limit' | 'already_holding';

/**
 * pending → expired or cancelled, and in the same transaction the listing goes to the first person in
 * its waiting list who can still buy: their new pending order takes over the old order's reservation
 * (listings-service is told after the commit, see finishEndedHold). People whose turn came but who cannot
 * buy (deleted, at their hold limit, already holding it) leave the line. The listing is released to
 * everyone only when nobody is left.
 *
 * The listing's lock row serializes this with joins and sales of the same listing, and the conditional
 * UPDATE of the order means that of an expiry, a cancel and a payment racing (on any replica, or the
 * sweep) exactly one ends the hold: the hand-over happens once. undefined when the order is not pending
 * (or `guard` refuses it): nothing changed.
 */
export async function endHold(deps: OrdersDeps, id: string, to: 'expired' | 'cancelled', guard: TransitionGuard): Promise<EndedHold | undefined> {
  const before = await deps.orders.findById(id);
  if (!before || before.status !== 'pending') return undefined;
  await deps.waitlist.ensureListingLock(before.listingId);
  const outcome = await transact(deps.db, 
    async (trx) => {
      await deps.waitlist.lockListing(before.listingId, trx);
      if (!(await deps.orders.leavePending(id, to, guard, trx))) return undefined;
      const ended = (await deps.orders.findById(id, trx)) as OrderRecord;
      await deps.outbox.publish(trx, to === 'expired' ? 'order.expired' : 'order.cancelled', { order: publicOrder(ended) });
      const next = await handOver(deps, ended, trx);
      return next ? { ended, next } : { ended };
    },
    // Every read after the lock sees the latest commits: the joins and leaves that took the lock before.
    { isolationLevel: 'read committed' },
  );
  if (outcome?.next) domainEvents.inc({ event: 'order_handed_over' });
  return outcome;
}

/** The first eligible person in line gets a pending order for the ended order's listing, at its price. */
async function handOver(deps: OrdersDeps, ended: OrderRecord, trx: Knex.Transaction): Promise<OrderRecord | undefined> {
  for (;;) {
    const entry = await deps.waitlist.firstInLine(ended.listingId, trx);
    if (!entry) return undefined;
    await deps.waitlist.removeById(entry.id, trx);
    const refusal = await whyCannotBuy(deps, entry, trx);
    if (refusal) {
      deps.logger.info('passed over in a waiting list', { listingId: entry.listingId, buyerId: entry.buyerId, reason: refusal });
      await deps.outbox.publish(trx, 'order.waitlist_passed_over', { listingId: entry.listingId, buyerId: entry.buyerId, reason: refusal });
      continue;
    }
    const next = await deps.orders.insertPending(
      { id: randomUUID(), buyerId: entry.buyerId, listingId: ended.listingId, priceCents: ended.priceCents, currency: ended.currency },
      deps.waitlistLimits.holdSeconds,
      trx,
      ended.id,
    );
    // The old order's listing is not released: it moves to the new order. Noted now, in the same
    // transaction, so that no retry of a release (the sweep's) can ever make it available meanwhile.
    await deps.orders.markListingReleased(ended.id, trx);
    await deps.outbox.publish(trx, 'order.created', { order: publicOrder(next) });
    await deps.outbox.publish(trx, 'order.handed_over', { order: publicOrder(next), fromOrderId: ended.id });
    deps.logger.info('listing handed over to the next in line', { listingId: ended.listingId, fromOrderId: ended.id, orderId: next.id });
    return next;
  }
}

/**
 * The checks a checkout makes, under the same buyer lock (its row exists: joining created it), so a
 * checkout of theirs in flight is counted. No rehold cooldown: they waited their turn at the back.
 */
async function whyCannotBuy(deps: OrdersDeps, entry: WaitlistEntryRecord, trx: Knex.Transaction): Promise<PassOverReason | undefined> {
  if (await deps.revocations.isDeleted(entry.buyerId, trx)) return 'deleted';
  return (await holdRefusal(deps, entry.buyerId, entry.listingId, trx))?.reason;
}

/**
 * After the commit: the new order's hold starts (its expiry message) and listings-service moves the
 * reservation to it; with nobody in line, the listing is released. Both are idempotent: the sweep
 * repeats what a crash or an outage left undone (orders with `listing_transferred` false).
 */
export async function finishEndedHold(deps: OrdersDeps, { ended, next }: EndedHold, budgetMs: number): Promise<void> {
  if (!next) {
    await releaseListingOf(deps, ended, budgetMs);
    return;
  }
  await finishHandOver(deps, next, budgetMs);
}

/** Schedules first: a crash after it leaves the order untransferred, and the sweep schedules it again (harmless). */
export async function finishHandOver(deps: OrdersDeps, next: OrderRecord, budgetMs: number): Promise<void> {
  if (next.status === 'pending') await deps.expiry.schedule(next.id, deps.waitlistLimits.holdSeconds);
  await catchUpTransfer(deps, next, budgetMs);
}
