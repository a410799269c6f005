import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { AppError } from '../errors';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as verified from a token at the edge. Never read from anything a client sets. */
export interface Actor {
  id: string;
  role: Role;
}

const ISSUER = 'market-users';
const AUDIENCE = 'market';
const ALGORITHM = 'HS256';

const claimsSchema = z.object({ sub: z.uuid(), role: z.enum(ROLES) });

export interface AccessTokens {
  sign(actor: Actor): string;
  verify(token: string): Actor;
}

export function createAccessTokens(secret: string, ttlSeconds: number): AccessTokens {
  // jsonwebtoken re-imports a string secret on every call; a KeyObject is imported once.
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    sign: (actor) =>
      jwt.sign({ role: actor.role }, key, {
        algorithm: ALGORITHM,
        subject: actor.id,
        issuer: ISSUER,
        audience: AUDIENCE,
        expiresIn: ttlSeconds,
      }),
    verify: (token) => {
      let payload: unknown;
      try {
        payload = jwt.verify(token, key, { algorithms: [ALGORITHM], issuer: ISSUER, audience: AUDIENCE });
      } catch (err) {
        const expired = err instanceof jwt.TokenExpiredError;
        throw new AppError(401, expired ? 'token_expired' : 'invalid_token', expired ? 'The access token has expired.' : 'The access token is not valid.');
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw new AppError(401, 'invalid_token', 'The access token is not valid.');
      return { id: claims.data.sub, role: claims.data.role };
    },
  };
}

/** `Authorization: Bearer <token>` → the token, or undefined when the header is absent. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match?.[1]) throw new AppError(401, 'invalid_token', 'The Authorization header must be "Bearer <access token>".');
  return match[1];
}

/** For RPC handlers: the verified caller, or a 401 when the request came without one. */
export function requireActor(actor: Actor | null): Actor {
  if (!actor) throw new AppError(401, 'unauthorized', 'Sign in to do this: send a valid access token.');
  return actor;
}
