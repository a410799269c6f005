import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { type Logger, problem, rateLimitRejections, type Redis, sendProblem } from '@market/common';
import { edgeRound } from './edge-round';
import type { ReadCache } from './read-cache';

export interface RateLimitOptions {
  redis: Redis;
  /** Its lookups ride in the same write as the count. */
  cache: ReadCache;
  prefix: string;
  limit: number;
  windowMs: number;
  logger: Logger;
  /** Whose count a request adds to: by default the signed-in user, else the client's address. */
  keyOf?: (req: Request) => string;
}

/**
 * 5 requests per 10 s per client by default, counted in Redis so every gateway replica shares the
 * count. The client is the user when a valid token came with the request, else its address; the
 * anonymous routes (sign-in, sign-up, refresh) always count the address, whatever token rides along,
 * so throwaway accounts' tokens cannot buy a password guesser more attempts.
 * If Redis is down the limiter lets traffic through (with a warning) instead of failing requests.
 */
export function createRateLimiter(opts: RateLimitOptions): RequestHandler {
  let lastWarning = 0;
  return rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    // draft-7 (`RateLimit: limit=5, remaining=0, reset=7` + `RateLimit-Policy`): draft-8 hashes a key per request.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    passOnStoreError: true,
    // On the anonymous routes `authenticate` never sets an actor, so they are counted by address.
    keyGenerator: opts.keyOf ?? ((req) => (req.actor ? `user:{${req.actor.id}}` : `ip:${clientAddressKey(req.ip ?? 'unknown')}`)),
    store: new RedisStore({ prefix: `${opts.prefix}:rl:`, sendCommand: sendCommandVia(opts.redis, opts.cache) }),
    // keyGeneratorIpFallback reads the key generator's source for `ipKeyGenerator`; clientAddressKey
    // applies it to IPv6 itself (tested against it), so that check would only be a false alarm.
    validate: { keyGeneratorIpFallback: false },
    logger: {
      warn: (msg: unknown) => opts.logger.warn('rate limiter', { msg: String(msg) }),
      error: (err: unknown, context?: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (!String(context ?? '').includes('error from store')) {
          opts.logger.error('rate limiter misconfigured', { err: message });
          return;
        }
        // One warning every 10 s while Redis is away, not one per request.
        if (Date.now() - lastWarning < 10_000) return;
        lastWarning = Date.now();
        opts.logger.warn('rate limiter store unavailable; letting requests through', { err: message });
      },
    },
    handler: (_req, res) => {
      rateLimitRejections.inc();
      sendProblem(res, problem('rate_limited'));
    },
  });
}

/**
 * The same key ipKeyGenerator makes, without parsing every IPv4 address: an IPv4 client reaches a
 * dual-stack listener as `::ffff:a.b.c.d`, which is the IPv4 address; only real IPv6 addresses are
 * grouped by their /56 subnet (a client can own a whole subnet) by ipKeyGenerator.
 */
export function clientAddressKey(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7);
  return ipKeyGenerator(ip);
}

/**
 * rate-limit-redis loads its Lua scripts when it is constructed. With Redis down at that moment the
 * load would reject with nobody listening, so SCRIPT LOAD answers the SHA1 (which is what Redis
 * answers) and loads the script in the background; a missing script later comes back as NOSCRIPT,
 * on which the store loads it again and retries.
 *
 * The count (EVALSHA) carries the request's other questions with it (edge-round.ts): the token's
 * revocation state and, for a cacheable read, the cache entry, all sent in one write: one round trip.
 */
function sendCommandVia(redis: Redis, cache: ReadCache) {
  return async (command: string, ...args: string[]): Promise<never> => {
    const name = command.toUpperCase();
    if (name === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD' && args[1] !== undefined) {
      const script = args[1];
      redis.call('SCRIPT', 'LOAD', script).catch(() => undefined);
      return createHash('sha1').update(script).digest('hex') as never;
    }
    const round = name === 'EVALSHA' ? edgeRound() : undefined;
    const revocationKey = round?.minVersion === undefined ? round?.revocationKey : undefined;
    const cacheKey = cache.enabled && round?.cacheFound === undefined ? round?.cached?.key : undefined;
    if (!revocationKey && !cacheKey) return (await redis.call(command, ...args)) as never;
    // Issued in the same tick: the client's auto-pipelining sends them in one write, shared with every
    // other request of this tick, and the answers come back together.
    const [count, revocation, lookup] = await Promise.allSettled([
      redis.call(command, ...args),
      revocationKey ? redis.get(revocationKey) : undefined,
      cacheKey ? cache.lookup(cacheKey) : undefined,
    ]);
    if (round && revocationKey && revocation.status === 'fulfilled') round.minVersion = Number(revocation.value ?? 0);
    if (round && cacheKey && lookup.status === 'fulfilled') round.cacheFound = lookup.value;
    if (count.status === 'rejected') throw count.reason;
    return count.value as never;
  };
}
