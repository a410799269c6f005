import { BackgroundJob, type Broker } from '@market/common';
import { confirmListingChanges } from '../domain/confirm-listing-changes';
import type { OrdersDeps } from '../domain/deps';
import { expireOverdueOrders } from '../domain/expire-overdue-orders';
import { undoOrphanReservations } from '../domain/undo-orphan-reservations';

export interface SweepOptions {
  /** How often to sweep; 60 s in production, shorter in tests. */
  intervalMs?: number;
}

const BATCH = 100;
const MAX_BATCHES = 10;

/**
 * The backstop for everything the expiry queue and the request paths could not finish: orders past
 * their hold that are still pending, hand-overs, releases and sold marks listings-service did not
 * confirm, and reservations left without an order. Runs at start-up, after every broker reconnect (the
 * moment listings-service may be reachable again) and on a timer. Every step is conditional or
 * idempotent, so replicas sweeping side by side do no harm.
 */
export class Sweep {
  private readonly job: BackgroundJob;
  // Stopping ends a pass between two orders, not after the whole batch.
  private readonly stopping = new AbortController();

  constructor(deps: OrdersDeps, options: SweepOptions = {}) {
    const { signal } = this.stopping;
    this.job = new BackgroundJob({
      name: 'order sweep',
      logger: deps.logger,
      intervalMs: options.intervalMs ?? 60_000,
      run: async () => {
        await expireOverdueOrders(deps, { batchSize: BATCH, maxBatches: MAX_BATCHES, signal });
        await confirmListingChanges(deps, { batchSize: BATCH, signal });
        await undoOrphanReservations(deps, { batchSize: BATCH, signal });
      },
    });
  }

  /**
   * A pass mostly asks listings-service, so the first waits for the broker: onConnect runs once the
   * connection (and with it the RPC client's channel) is up, and after every reconnect.
   */
  async start(broker: Broker): Promise<void> {
    await broker.onConnect(async () => this.runSoon());
    this.job.start({ runNow: false });
  }

  /** Runs a sweep now, or right after the one in progress. */
  runSoon(): void {
    this.job.nudge();
  }

  /** Resolves when the sweep in progress (if any) has finished. */
  async idle(): Promise<void> {
    await this.job.idle();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.job.stop();
  }
}
