import type { RequestHandler } from 'express';
import { AppError, bearerToken, currentContext, type RequestContext, type TokenActor, type TokenVerifier, tokenRevoked } from '@market/common';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set only from a verified access token; `null` for anonymous requests. */
    actor?: TokenActor | null;
    /** The verified token itself, forwarded to the services so that each verifies it again. */
    accessToken?: string;
    /** Why a presented token was refused; raised after rate limiting so token guessing is limited too. */
    authError?: AppError;
  }
}

/** Routes that are anonymous by nature: a token riding along is ignored, and they are limited per address. */
export const ANONYMOUS_ROUTES = new Set(['POST /signin', 'POST /users', 'POST /token/refresh']);
/** Express matches paths case-insensitively and with or without a trailing slash: so must this. */
export const isAnonymousRoute = (method: string, path: string): boolean => ANONYMOUS_ROUTES.has(`${method} ${path.toLowerCase().replace(/\/+$/, '')}`);

/**
 * The token's revocation state is read from Redis in the same round trip as the rate-limit count (see
 * rate-limit.ts): authenticate names the key here, the limiter's command fetches it, `refuseBadTokens`
 * reads the answer. Keyed by the request's context object, so concurrent requests never mix answers.
 */
export interface RevocationLookup {
  key: string;
  /** Lowest token version still valid (undefined: not looked up, e.g. Redis was unreachable). */
  minVersion?: number;
}
export const revocationLookups = new WeakMap<RequestContext, RevocationLookup>();

/** `{id}` is a Redis Cluster hash tag: the user's rate-limit counter and revocation state share a slot. */
export const revocationKey = (prefix: string, userId: string): string => `${prefix}:rv:{${userId}}`;
/** Stored for a deleted user: higher than any token version. */
export const DELETED_VERSION = 4_294_967_295;

/** Verifies the bearer token at the edge; identity headers a client sends are never read. */
export function authenticate(tokens: TokenVerifier, prefix: string): RequestHandler {
  return (req, _res, next) => {
    req.actor = null;
    if (isAnonymousRoute(req.method, req.path)) return next();
    try {
      const token = bearerToken(req.get('authorization'));
      if (token !== undefined) {
        req.actor = tokens.verify(token);
        req.accessToken = token;
        const ctx = currentContext();
        if (ctx) revocationLookups.set(ctx, { key: revocationKey(prefix, req.actor.id) });
      }
    } catch (err) {
      req.actor = null;
      req.authError = err instanceof AppError ? err : new AppError(401, 'invalid_token', 'The access token is not valid.');
    }
    next();
  };
}

/**
 * A request with a bad or revoked token is refused outright, even on public routes, so a client learns
 * at once that its token is dead. When Redis could not be asked, the services still refuse a revoked
 * token themselves (they keep their own revocation list).
 */
export const refuseBadTokens: RequestHandler = (req, _res, next) => {
  if (req.authError) return next(req.authError);
  const ctx = currentContext();
  const minVersion = ctx && revocationLookups.get(ctx)?.minVersion;
  if (req.actor && minVersion !== undefined && req.actor.tokenVersion < minVersion) return next(tokenRevoked());
  next();
};
