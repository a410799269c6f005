import { AppError, describeError, type Knex, retry } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';
import type { OrdersDeps } from './deps';

/**
 * Follow-ups in listings-service after an order changed (release on cancel/expiry, sold on payment).
 * The order's own change is already committed, so these never undo it: they are retried here within a
 * time budget, then by the sweep until listings-service confirms (the `listing_*` flags on the order).
 */
export type SyncOutcome = 'ok' | 'refused' | 'failed';

/** Listings-service's answer comes in well under this; backing off further only delays the catch-up. */
const BACKOFF = { baseMs: 100, maxMs: 2000 };
const MIN_ATTEMPT_MS = 100;

/** Inside a request: the caller is waiting with the same RPC timeout, so keep well within it. */
export const requestBudgetMs = (deps: OrdersDeps): number => Math.max(500, Math.floor(deps.rpcTimeoutMs / 2));
/** The expiry consumer and the sweep: nobody is waiting, but a hung listings-service must not stall them for long. */
export const backgroundBudgetMs = (deps: OrdersDeps): number => deps.rpcTimeoutMs * 2;

/** A 4xx is listings-service's considered answer; asking again cannot change it. */
const isRefusal = (err: unknown): err is AppError => err instanceof AppError && err.status < 500;

async function withRetries(deps: OrdersDeps, what: string, fields: Record<string, unknown>, budgetMs: number, call: (timeoutMs: number) => Promise<void>): Promise<SyncOutcome> {
  let attempts = 0;
  try {
    await retry(
      async (timeLeftMs, attempt) => {
        attempts = attempt + 1;
        await call(Math.min(timeLeftMs, deps.rpcTimeoutMs));
      },
      { budgetMs, ...BACKOFF, minAttemptMs: MIN_ATTEMPT_MS, isFinal: isRefusal },
    );
  } catch (err) {
    if (isRefusal(err)) {
      deps.logger.error(`${what} refused by listings-service`, { ...fields, code: err.code, detail: err.detail });
      return 'refused';
    }
    deps.logger.warn(`${what} failed; will retry later`, { ...fields, err: describeError(err).message });
    return 'failed';
  }
  if (attempts > 1) deps.logger.info(`${what} succeeded after retrying`, { ...fields, attempts });
  return 'ok';
}

/**
 * The order's change is committed and listings-service has done its part; failing to note that must
 * not turn the caller's success into an error. The sweep repeats the (idempotent) call and notes it then.
 */
async function recordQuietly(deps: OrdersDeps, fields: Record<string, unknown>, record: () => Promise<void>): Promise<void> {
  await record().catch((err: unknown) => deps.logger.warn('could not record the listing change; the sweep will confirm it again', { ...fields, err: describeError(err).message }));
}

/**
 * A handed-over order's reservation moves to it in listings-service (from the order it took over, whose
 * own move is caught up first: a chain of hand-overs during an outage is replayed in order), and that is
 * recorded. Before anything else listings-service is asked about this order (release, sale), since it
 * keys both on the order that holds the reservation. 'ok' at once for an order placed by checkout.
 */
export async function catchUpTransfer(deps: OrdersDeps, order: OrderRecord, budgetMs: number): Promise<SyncOutcome> {
  if (order.listingTransferred || !order.handedOverFrom) return 'ok';
  const from = await deps.orders.findById(order.handedOverFrom);
  if (from && (await catchUpTransfer(deps, from, budgetMs)) === 'failed') return 'failed';
  const fields = { orderId: order.id, listingId: order.listingId, fromOrderId: order.handedOverFrom };
  const fromOrderId = order.handedOverFrom;
  const outcome = await withRetries(deps, 'moving the reservation to the next in line', fields, budgetMs, (timeoutMs) =>
    deps.listings.transfer(order.listingId, fromOrderId, order.id, timeoutMs),
  );
  if (outcome === 'refused') deps.logger.error('a hand-over whose listing is not reserved for the previous order: needs a person to look', fields);
  if (outcome !== 'failed') await recordQuietly(deps, fields, () => deps.orders.markListingTransferred(order.id));
  return outcome;
}

/** Makes the listing of a cancelled or expired order available again, and records that it did. */
export async function releaseListingOf(deps: OrdersDeps, order: OrderRecord, budgetMs: number): Promise<SyncOutcome> {
  const fields = { orderId: order.id, listingId: order.listingId };
  // Released "from" this order only once it holds the reservation; else the release would be a no-op
  // and the listing would stay reserved for the order it was handed over from.
  if ((await catchUpTransfer(deps, order, budgetMs)) === 'failed') return 'failed';
  const outcome = await withRetries(deps, 'listing release', fields, budgetMs, (timeoutMs) => deps.listings.release(order.listingId, order.id, timeoutMs));
  // A refusal is recorded too: the sweep would only repeat it forever; the error log is the alarm.
  if (outcome !== 'failed') await recordQuietly(deps, fields, () => deps.orders.markListingReleased(order.id));
  return outcome;
}

/** Marks the listing of a completed order sold, and records that listings-service confirmed it. */
export async function markListingSoldOf(deps: OrdersDeps, order: OrderRecord, budgetMs: number): Promise<SyncOutcome> {
  const fields = { orderId: order.id, listingId: order.listingId };
  if ((await catchUpTransfer(deps, order, budgetMs)) === 'failed') return 'failed';
  const outcome = await withRetries(deps, 'marking the listing sold', fields, budgetMs, (timeoutMs) => deps.listings.markSold(order.listingId, order.id, timeoutMs));
  if (outcome === 'refused') deps.logger.error('a paid order whose listing is not reserved for it: needs a person to look', fields);
  if (outcome !== 'failed') await recordQuietly(deps, fields, () => deps.orders.markListingSoldConfirmed(order.id));
  return outcome;
}

/**
 * Undoes a reservation that has no order (the order was never recorded, or the reservation's outcome is
 * unknown). The release is conditional on this order id in listings-service, so it is harmless when
 * nothing was reserved. Until it succeeds, the reservation attempt row stays for the sweep to retry.
 */
export async function undoReservation(deps: OrdersDeps, listingId: string, orderId: string, budgetMs: number, trx?: Knex.Transaction): Promise<SyncOutcome> {
  const fields = { orderId, listingId };
  const outcome = await withRetries(deps, 'undoing a reservation without an order', fields, budgetMs, (timeoutMs) => deps.listings.release(listingId, orderId, timeoutMs));
  if (outcome === 'failed') {
    deps.logger.error('a listing may stay reserved for an order that does not exist until the sweep releases it', fields);
    return outcome;
  }
  // In the sweep's transaction when it holds the row's lock (another connection would wait for it).
  await deps.orders.deleteAttempt(orderId, trx).catch((err: unknown) => {
    // Harmless: the sweep will release once more (a no-op) and then delete it.
    deps.logger.warn('could not delete a settled reservation attempt', { ...fields, err: describeError(err).message });
  });
  return outcome;
}
