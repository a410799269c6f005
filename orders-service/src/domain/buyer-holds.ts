import { type Actor, type Knex, problem, transact } from '@market/common';
import type { OrdersDeps } from './deps';
import { orderErrors } from './order-errors';

/**
 * The bounds on what one buyer may hold, checked before anything is reserved: not a listing they
 * already hold, not one they cancelled less than REHOLD_COOLDOWN_SECONDS ago (else cancel-and-reorder
 * renews a hold forever), and no more than MAX_PENDING_ORDERS_PER_BUYER at once. A refusal changes nothing.
 *
 * The checks and the reservation attempt they admit are one transaction holding the buyer's lock row,
 * and the attempt counts as a hold until its order replaces it (in one transaction) or it is deleted.
 * So a buyer's parallel checkouts take turns here and each sees the ones admitted before it: with room
 * for one more, exactly one more gets in. The lock is held only for these few statements, never across
 * the reservation's RPC, and other buyers never wait on it.
 */
export async function admitCheckoutAttempt(deps: OrdersDeps, buyer: Actor, listingId: string, orderId: string): Promise<void> {
  const { maxPendingPerBuyer, reholdCooldownSeconds } = deps.holdLimits;
  await deps.orders.ensureBuyerLock(buyer.id);
  await transact(deps.db, 
    async (trx) => {
      const refusal = await holdRefusal(deps, buyer.id, listingId, trx);
      if (refusal?.reason === 'already_holding') throw orderErrors.alreadyHolding(refusal.orderId);
      if (reholdCooldownSeconds > 0) {
        const allowed = await deps.orders.reholdAllowedAt(buyer.id, listingId, reholdCooldownSeconds, trx);
        if (allowed) throw problem('rehold_cooldown', allowed.at, allowed.secondsLeft);
      }
      if (refusal?.reason === 'hold_limit') throw problem('too_many_holds', maxPendingPerBuyer);
      await deps.orders.recordAttempt(orderId, listingId, buyer.id, trx);
    },
    // Every read sees the latest commits, among them the attempt the buyer's previous checkout recorded
    // just before it released the lock. Under REPEATABLE READ that would hold only while no plain read
    // came before the lock (InnoDB takes the snapshot at the first one): one moved line from a silent bug.
    { isolationLevel: 'read committed' },
  );
}

export type HoldRefusal = { reason: 'already_holding'; orderId: string } | { reason: 'hold_limit' };

/**
 * Takes the buyer's lock row (it must exist: `ensureBuyerLock`) and says why they may not take one more
 * hold on this listing: they hold it already, or they are at MAX_PENDING_ORDERS_PER_BUYER. The one
 * place both a checkout and a waiting list's hand-over ask it.
 */
export async function holdRefusal(deps: OrdersDeps, buyerId: string, listingId: string, trx: Knex.Transaction): Promise<HoldRefusal | undefined> {
  await deps.orders.lockBuyer(buyerId, trx);
  const holds = await deps.orders.holdsOf(buyerId, trx);
  const mine = holds.find((hold) => hold.listingId === listingId);
  if (mine) return { reason: 'already_holding', orderId: mine.orderId };
  if (holds.length >= deps.holdLimits.maxPendingPerBuyer) return { reason: 'hold_limit' };
  return undefined;
}
