import { describeError } from '../errors';
import { runWithContext, type Logger } from '../logger';

export interface BackoffOptions {
  /** The first wait. */
  baseMs?: number;
  /** No wait is longer than this. */
  maxMs?: number;
}

/** The wait before retry number `attempt` (0 for the first): doubling from `baseMs`, capped at `maxMs`. */
export function backoffMs(attempt: number, { baseMs = 250, maxMs = 5000 }: BackoffOptions = {}): number {
  return Math.min(baseMs * 2 ** Math.min(Math.max(attempt, 0), 20), maxMs);
}

export interface RetryOptions extends BackoffOptions {
  /** Stop trying once this much time has passed since the first attempt (the last attempt gets what is left). */
  budgetMs?: number;
  /** Stop after this many attempts. Give this, `budgetMs`, or both. */
  maxAttempts?: number;
  /** Attempts never get less than this; with less left, the retrying stops. */
  minAttemptMs?: number;
  /** A final answer (a 4xx, say) is thrown at once; anything else is tried again. */
  isFinal?: (err: unknown) => boolean;
  /** Waits a random part of each backoff, so that rivals failing together do not retry in step. */
  jitter?: boolean;
  /** Runs before each wait, e.g. to show the work is still alive (a heartbeat, a log line). */
  beforeRetry?: (err: unknown, attemptNumber: number) => Promise<void> | void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, throws a final error, or the time budget or the attempts are spent;
 * the last error is thrown then. Each attempt is told how long it may take (Infinity without a budget),
 * so a caller can pass it on as a timeout.
 */
export async function retry<T>(attempt: (timeoutMs: number, attemptNumber: number) => Promise<T>, options: RetryOptions & ({ budgetMs: number } | { maxAttempts: number })): Promise<T> {
  const deadline = options.budgetMs === undefined ? Infinity : Date.now() + options.budgetMs;
  const maxAttempts = options.maxAttempts ?? Infinity;
  const minAttemptMs = options.minAttemptMs ?? 100;
  let lastError: unknown = new Error('no attempt fitted in the time budget');
  for (let n = 0; n < maxAttempts; n++) {
    const left = deadline - Date.now();
    if (left < minAttemptMs) break;
    try {
      return await attempt(left, n);
    } catch (err) {
      if (options.isFinal?.(err)) throw err;
      lastError = err;
    }
    if (n + 1 >= maxAttempts) break;
    await options.beforeRetry?.(lastError, n);
    const wait = backoffMs(n, options) * (options.jitter ? Math.random() : 1);
    await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
  }
  throw lastError;
}

export interface BackgroundJobOptions {
  /** Names the job in logs, and is the request id its runs log under. */
  name: string;
  /** One run. A failure is logged and the job runs again at its next turn. */
  run: () => Promise<void>;
  logger: Logger;
  /** Runs this often once started; without it, the job runs only when nudged. */
  intervalMs?: number;
}

/**
 * Background work that must never run twice at once in a process and must never be lost: the outbox
 * relay, the orders sweep, the payments reconciler. `nudge` asks for a run now; a nudge during a run
 * coalesces into exactly one more run after it, so work signalled mid-run is never missed.
 */
export class BackgroundJob {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: BackgroundJobOptions) {}

  /**
   * Starts the timer (if any) and runs once now, unless `runNow` is false: a job whose work needs
   * something not there yet (a broker connection) is nudged by whatever brings it.
   */
  start({ runNow = true }: { runNow?: boolean } = {}): void {
    this.stopped = false;
    if (this.options.intervalMs && !this.timer) {
      this.timer = setInterval(() => this.nudge(), this.options.intervalMs);
      this.timer.unref();
    }
    if (runNow) this.nudge();
  }

  /** Runs now, or once more right after the run in progress. */
  nudge(): void {
    if (this.stopped) return;
    if (this.current) {
      this.again = true;
      return;
    }
    this.current = runWithContext({ requestId: this.options.name }, () => this.options.run())
      .catch((err: unknown) => {
        this.options.logger.warn(`${this.options.name} failed; will retry`, { err: describeError(err).message });
      })
      .finally(() => {
        this.current = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Whether a run is in progress. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Resolves once no run is in progress and none is asked for. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  /** Stops the timer and new runs; waits for the run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.again = false;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }
}
