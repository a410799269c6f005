import type { RequestHandler } from 'express';
import { type AccessTokens, type Actor, AppError, bearerToken } from '@market/common';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set only from a verified access token; `null` for anonymous requests. */
    actor?: Actor | null;
    /** Why a presented token was refused; raised after rate limiting so token guessing is limited too. */
    authError?: AppError;
  }
}

/** Verifies the bearer token at the edge; identity headers a client sends are never read. */
export function authenticate(tokens: AccessTokens): RequestHandler {
  return (req, _res, next) => {
    req.actor = null;
    try {
      const token = bearerToken(req.get('authorization'));
      if (token !== undefined) req.actor = tokens.verify(token);
    } catch (err) {
      req.authError = err instanceof AppError ? err : new AppError(401, 'invalid_token', 'The access token is not valid.');
    }
    next();
  };
}

/** A request with a bad token is refused outright, even on public routes, so a client learns at once that its token is dead. */
export const refuseBadTokens: RequestHandler = (req, _res, next) => next(req.authError);
