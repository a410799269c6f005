import type { RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import { currentContext, type RequestContext } from '@market/common';
import type { AnyRoute } from '../routes/route';
import type { CacheKey, CacheLookup } from './read-cache';

/**
 * What one request asks of Redis besides its rate-limit count, sent in the same write as the count
 * (rate-limit.ts): one round trip per request. `authenticate` names the token's revocation key,
 * `planCachedRead` the entry a cacheable read would serve; the answers land here for `refuseBadTokens`
 * and the route. Keyed by the request's context object, so concurrent requests never mix answers.
 */
export interface EdgeRound {
  revocationKey?: string;
  /** Lowest token version still valid; undefined: not read (no token, or Redis did not answer). */
  minVersion?: number;
  /** A cacheable read, planned before the limiter: its route, the input that route parsed, its entry. */
  cached?: CachedReadPlan;
  /** The lookup's answer; undefined: not looked up (yet), and the cache then asks on its own. */
  cacheFound?: CacheLookup;
}

export interface CachedReadPlan {
  route: AnyRoute;
  params: unknown;
  query: unknown;
  key: CacheKey;
}

const rounds = new WeakMap<RequestContext, EdgeRound>();

/** This request's round (created on first use); undefined outside a request. */
export function edgeRound(ctx: RequestContext | undefined = currentContext()): EdgeRound | undefined {
  if (!ctx) return undefined;
  let round = rounds.get(ctx);
  if (!round) rounds.set(ctx, (round = {}));
  return round;
}

/**
 * Before the rate limiter: a GET that a cacheable route will answer names its cache entry now, so the
 * lookup rides with the count. The route's own schemas decide, and the route uses what they parsed;
 * input they refuse plans nothing (the route answers 400 after the limiter, as always).
 */
export function planCachedRead(routes: AnyRoute[]): RequestHandler {
  const cacheable = routes
    .filter((route) => route.method === 'get' && route.cacheKey)
    .map((route) => ({ route, matches: match(route.path, { decode: decodeURIComponent }) }));
  return (req, _res, next) => {
    if (req.method !== 'GET') return next();
    for (const { route, matches } of cacheable) {
      const found = matches(req.path);
      if (!found) continue;
      const params = route.params ? route.params.safeParse(found.params) : { success: true, data: {} };
      const query = route.query ? route.query.safeParse(req.query) : { success: true, data: {} };
      if (params.success && query.success) {
        const round = edgeRound();
        const key = route.cacheKey!({ params: params.data, query: query.data, actor: req.actor ?? null });
        if (round) round.cached = { route, params: params.data, query: query.data, key };
      }
      break;
    }
    next();
  };
}
