import type { OrdersDeps } from './deps';
import { undoReservation } from './listing-sync';

/**
 * A create request writes its attempt before reserving and deletes it in the transaction recording the
 * order; one older than any request can last belongs to a request that died, and its reservation is
 * released. The row stays locked while its listing is released, so a request that is merely slow cannot
 * record its order meanwhile: its own delete waits for the lock, then finds nothing and undoes its order.
 */
export async function undoOrphanReservations(deps: OrdersDeps, { batchSize, signal }: { batchSize: number; signal: AbortSignal }): Promise<void> {
  const olderThanSeconds = Math.max(60, Math.ceil((deps.rpcTimeoutMs * 4) / 1000));
  for (const orderId of await deps.orders.staleAttempts(olderThanSeconds, batchSize)) {
    if (signal.aborted) return;
    const outcome = await deps.db.transaction(async (trx) => {
      const attempt = await deps.orders.lockStaleAttempt(orderId, olderThanSeconds, trx);
      if (!attempt) return 'ok';
      deps.logger.warn('releasing a reservation left without an order', { orderId, listingId: attempt.listingId });
      return undoReservation(deps, attempt.listingId, orderId, deps.rpcTimeoutMs, trx);
    });
    // listings-service is unreachable: the next pass tries again.
    if (outcome === 'failed') return;
  }
}
