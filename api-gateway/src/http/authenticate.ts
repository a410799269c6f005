import type { RequestHandler } from 'express';
import { AppError, bearerToken, problem, type TokenActor, type TokenVerifier, tokenRevoked } from '@market/common';
import { edgeRound } from './edge-round';

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
        // Read in the request's one Redis round trip, with the rate-limit count (edge-round.ts).
        const round = edgeRound();
        if (round) round.revocationKey = revocationKey(prefix, req.actor.id);
      }
    } catch (err) {
      req.actor = null;
      req.authError = err instanceof AppError ? err : problem('invalid_token', 'invalid');
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
  const minVersion = edgeRound()?.minVersion;
  if (req.actor && minVersion !== undefined && req.actor.tokenVersion < minVersion) return next(tokenRevoked());
  next();
};
