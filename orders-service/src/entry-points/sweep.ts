import { type Broker, describeError, runWithContext } from '@market/common';
import type { OrdersDeps } from '../domain/deps';
import { expireOrder } from '../domain/expire-order';
import { finishHandOver } from '../domain/hand-over';
import { markListingSoldOf, releaseListingOf, undoReservation } from '../domain/listing-sync';

export interface SweepOptions {
  /** How often to sweep; 60 s in production, shorter in tests. */
  intervalMs?: number;
}

const BATCH = 100;
const MAX_BATCHES = 10;

/**
 * The backstop for everything the expiry queue and the request paths could not finish: orders past
 * their hold that are still pending (an expiry message lost or never published), hand-overs whose
 * reservation listings-service has not confirmed as moved (a crash or an outage right after the
 * hand-over's commit), listing releases and sold marks listings-service did not confirm, and
 * reservations left without an order. Runs at start-up,
 * after every broker reconnect (the moment listings-service may be reachable again) and on a timer.
 * Every step is conditional or idempotent, so replicas sweeping side by side do no harm.
 */
export class Sweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private readonly intervalMs: number;

  constructor(
    private readonly deps: OrdersDeps,
    options: SweepOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
  }

  async start(broker: Broker): Promise<void> {
    // onConnect runs once the connection (and with it the RPC client's channel) is up, and after every reconnect.
    await broker.onConnect(async () => this.runSoon());
    this.timer = setInterval(() => this.runSoon(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs a sweep now, or right after the one in progress. */
  runSoon(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = runWithContext({ requestId: 'orders-sweep' }, () => this.sweep())
      .catch((err: unknown) => {
        this.deps.logger.warn('order sweep failed; will retry', { err: describeError(err).message });
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.runSoon();
        }
      });
  }

  /** Resolves when the sweep in progress (if any) has finished. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.idle();
  }

  private async sweep(): Promise<void> {
    await this.expireOverdue();
    await this.finishHandOvers();
    await this.retryReleases();
    await this.retrySoldMarks();
    await this.undoOrphanReservations();
  }

  private async expireOverdue(): Promise<void> {
    const { deps } = this;
    for (let batch = 0; batch < MAX_BATCHES && !this.stopping; batch++) {
      const ids = await deps.orders.dueForExpiry(BATCH);
      let expired = 0;
      for (const id of ids) {
        if (this.stopping) return;
        if ((await expireOrder(deps, id, deps.rpcTimeoutMs)).kind === 'expired') expired++;
      }
      if (expired) deps.logger.info('sweep expired overdue orders', { count: expired });
      // Stop when the batch was not full, or when it made no progress (no endless loop over one row).
      if (ids.length < BATCH || expired === 0) return;
    }
  }

  // A failed call ends a pass: listings-service is unreachable, and the next sweep will try again.

  /** Starts the hold's clock again (a second message only expires the order once) and moves the reservation. */
  private async finishHandOvers(): Promise<void> {
    for (const order of await this.deps.orders.awaitingTransfer(BATCH)) {
      if (this.stopping) return;
      await finishHandOver(this.deps, order, this.deps.rpcTimeoutMs);
      if (!(await this.deps.orders.findById(order.id))?.listingTransferred) return;
    }
  }

  private async retryReleases(): Promise<void> {
    for (const order of await this.deps.orders.awaitingRelease(BATCH)) {
      if (this.stopping || (await releaseListingOf(this.deps, order, this.deps.rpcTimeoutMs)) === 'failed') return;
    }
  }

  private async retrySoldMarks(): Promise<void> {
    for (const order of await this.deps.orders.awaitingSoldMark(BATCH)) {
      if (this.stopping || (await markListingSoldOf(this.deps, order, this.deps.rpcTimeoutMs)) === 'failed') return;
    }
  }

  /**
   * A create request writes its attempt before reserving and deletes it in the transaction recording the
   * order; one older than any request can last belongs to a request that died. The row stays locked while
   * its listing is released, so a request that is merely slow cannot record its order meanwhile: its own
   * delete waits for the lock, then finds nothing and undoes its order.
   */
  private async undoOrphanReservations(): Promise<void> {
    const { deps } = this;
    const olderThanSeconds = Math.max(60, Math.ceil((deps.rpcTimeoutMs * 4) / 1000));
    for (const orderId of await deps.orders.staleAttempts(olderThanSeconds, BATCH)) {
      if (this.stopping) return;
      const outcome = await deps.db.transaction(async (trx) => {
        const attempt = await deps.orders.lockStaleAttempt(orderId, olderThanSeconds, trx);
        if (!attempt) return 'ok';
        deps.logger.warn('releasing a reservation left without an order', { orderId, listingId: attempt.listingId });
        return undoReservation(deps, attempt.listingId, orderId, deps.rpcTimeoutMs, trx);
      });
      if (outcome === 'failed') return;
    }
  }
}
