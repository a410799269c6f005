import { Redis } from 'ioredis';
import type { Logger } from '../logger';

export type { Redis };

/**
 * A Redis client that fails fast: with the offline queue off and a short command timeout, a Redis
 * outage turns into an immediate error the caller can degrade around, never a hanging request.
 */
export function createRedis(url: string, logger: Logger, commandTimeoutMs = 500): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // Commands issued in the same tick (many concurrent requests) leave in one socket write.
    enableAutoPipelining: true,
  });
  let lastWarning = 0;
  redis.on('error', (err: Error) => {
    // ioredis emits an error per reconnect attempt; one line every 10 s is enough to be noticed.
    if (Date.now() - lastWarning > 10_000) {
      lastWarning = Date.now();
      logger.warn('redis unavailable', { err: err.message });
    }
  });
  return redis;
}

/** Resolves once the client is connected (or rejects after `timeoutMs`). */
export function redisReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error('Redis did not become ready in time'));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
