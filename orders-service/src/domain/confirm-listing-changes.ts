import type { OrdersDeps } from './deps';
import { finishHandOver } from './hand-over';
import { markListingSoldOf, releaseListingOf } from './listing-sync';

/**
 * What listings-service has not confirmed yet, asked again in the order it must happen: hand-overs whose
 * reservation did not move (a crash or an outage right after the hand-over's commit), then releases,
 * then sold marks. A failed call ends the pass: listings-service is unreachable, and the next pass retries.
 */
export async function confirmListingChanges(deps: OrdersDeps, { batchSize, signal }: { batchSize: number; signal: AbortSignal }): Promise<void> {
  // Starts the hold's clock again (a second message only expires the order once) and moves the reservation.
  for (const order of await deps.orders.awaitingTransfer(batchSize)) {
    if (signal.aborted) return;
    await finishHandOver(deps, order, deps.rpcTimeoutMs);
    if (!(await deps.orders.findById(order.id))?.listingTransferred) return;
  }
  for (const order of await deps.orders.awaitingRelease(batchSize)) {
    if (signal.aborted || (await releaseListingOf(deps, order, deps.rpcTimeoutMs)) === 'failed') return;
  }
  for (const order of await deps.orders.awaitingSoldMark(batchSize)) {
    if (signal.aborted || (await markListingSoldOf(deps, order, deps.rpcTimeoutMs)) === 'failed') return;
  }
}
