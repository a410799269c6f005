import { BackgroundJob, createLogger, retry } from '../src';

const logger = createLogger('jobs-test', 'error');
const noWait = { baseMs: 0, maxMs: 0 };

describe('retry', () => {
  test('tries again until an attempt succeeds, numbering the attempts from 0', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (_timeoutMs, attempt) => {
        seen.push(attempt);
        if (attempt < 2) throw new Error('not yet');
        return 'done';
      },
      { maxAttempts: 5, ...noWait },
    );
    expect(result).toBe('done');
    expect(seen).toEqual([0, 1, 2]);
  });

  test('stops after maxAttempts and throws the last error, with beforeRetry run between attempts only', async () => {
    let attempts = 0;
    const beforeRetry = jest.fn();
    await expect(
      retry(
        async () => {
          attempts++;
          throw new Error(`failure ${attempts}`);
        },
        { maxAttempts: 3, ...noWait, beforeRetry },
      ),
    ).rejects.toThrow('failure 3');
    expect(attempts).toBe(3);
    expect(beforeRetry).toHaveBeenCalledTimes(2);
  });

  test('throws a final error at once', async () => {
    let attempts = 0;
    const final = new Error('refused');
    await expect(
      retry(
        async () => {
          attempts++;
          throw final;
        },
        { maxAttempts: 5, ...noWait, isFinal: (err) => err === final },
      ),
    ).rejects.toBe(final);
    expect(attempts).toBe(1);
  });

  test('with a time budget, each attempt is told what is left of it', async () => {
    const timeouts: number[] = [];
    await retry(
      async (timeoutMs) => {
        timeouts.push(timeoutMs);
      },
      { budgetMs: 1000 },
    );
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]).toBeGreaterThan(900);
    expect(timeouts[0]).toBeLessThanOrEqual(1000);
  });
});

describe('BackgroundJob', () => {
  test('a nudge during a run coalesces into exactly one more run after it', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const job = new BackgroundJob({
      name: 'test job',
      logger,
      run: () => {
        runs++;
        return runs === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
    });
    job.nudge();
    expect(job.busy).toBe(true);
    job.nudge();
    job.nudge();
    release();
    await job.idle();
    expect(runs).toBe(2);
    await job.stop();
  });

  test('a failed run is logged and the job runs again when nudged; after stop it does not', async () => {
    let runs = 0;
    const warn = jest.spyOn(logger, 'warn');
    const job = new BackgroundJob({
      name: 'failing job',
      logger,
      run: async () => {
        runs++;
        if (runs === 1) throw new Error('broken');
      },
    });
    job.start();
    await job.idle();
    expect(warn).toHaveBeenCalledWith('failing job failed; will retry', { err: 'broken' });
    job.nudge();
    await job.idle();
    expect(runs).toBe(2);
    await job.stop();
    job.nudge();
    expect(job.busy).toBe(false);
    expect(runs).toBe(2);
  });

  test('started with runNow: false, it waits for its first nudge', async () => {
    let runs = 0;
    const job = new BackgroundJob({ name: 'waiting job', logger, intervalMs: 60_000, run: async () => void runs++ });
    job.start({ runNow: false });
    expect(job.busy).toBe(false);
    job.nudge();
    await job.idle();
    expect(runs).toBe(1);
    await job.stop();
  });
});
