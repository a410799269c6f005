import type { OrdersDeps } from './deps';
import { expireOrder } from './expire-order';

/**
 * Orders past their hold that are still pending (an expiry message lost or never published) expire,
 * in batches until one is not full or makes no progress (no endless loop over one row).
 */
export async function expireOverdueOrders(deps: OrdersDeps, { batchSize, maxBatches, signal }: { batchSize: number; maxBatches: number; signal: AbortSignal }): Promise<void> {
  for (let batch = 0; batch < maxBatches && !signal.aborted; batch++) {
    const ids = await deps.orders.dueForExpiry(batchSize);
    let expired = 0;
    for (const id of ids) {
      if (signal.aborted) return;
      if ((await expireOrder(deps, id, deps.rpcTimeoutMs)).kind === 'expired') expired++;
    }
    if (expired) deps.logger.info('sweep expired overdue orders', { count: expired });
    if (ids.length < batchSize || expired === 0) return;
  }
}
