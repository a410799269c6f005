import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { type AppError, problem } from '../errors';
import { keyIdOf } from './keys';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as verified from a token. Never read from anything a client sets. */
export interface Actor {
  id: string;
  role: Role;
}

/** An actor verified from an access token: `tokenVersion` lets a revocation outlive the token's signature. */
export interface TokenActor extends Actor {
  tokenVersion: number;
}

const ISSUER = 'market-users';
const AUDIENCE = 'market';
const ALGORITHM = 'ES256';

// exp and iat are required: a token that never expires is not one we issued.
const claimsSchema = z.object({
  sub: z.uuid(),
  role: z.enum(ROLES),
  ver: z.number().int().min(0),
  iat: z.number().int(),
  exp: z.number().int(),
});

const invalidToken = (): AppError => problem('invalid_token', 'invalid');
const tokenExpired = (): AppError => problem('token_expired');

export interface TokenSigner {
  sign(actor: TokenActor): string;
}

/** users-service alone holds the private key: only it can issue access tokens. */
export function createTokenSigner(privateKey: KeyObject, ttlSeconds: number): TokenSigner {
  const keyId = keyIdOf(createPublicKey(privateKey));
  return {
    sign: (actor) =>
      jwt.sign({ role: actor.role, ver: actor.tokenVersion }, privateKey, {
        algorithm: ALGORITHM,
        keyid: keyId,
        subject: actor.id,
        issuer: ISSUER,
        audience: AUDIENCE,
        expiresIn: ttlSeconds,
      }),
  };
}

export interface TokenVerifier {
  /** The verified actor; a 401 AppError when the token is not one users-service issued or it expired. */
  verify(token: string): TokenActor;
}

const CACHE_LIMIT = 10_000;

/**
 * Verifies ES256 access tokens with the public keys (several during a rotation, chosen by `kid`).
 * A client presents the same token many times: a verified token is remembered until it expires, so
 * the signature is checked once per token, not once per request.
 */
export function createTokenVerifier(publicKeys: readonly KeyObject[]): TokenVerifier {
  const byKid = new Map(publicKeys.map((key) => [keyIdOf(key), key]));
  const verified = new Map<string, { actor: TokenActor; expiresAtMs: number }>();
  return {
    verify(token) {
      const known = verified.get(token);
      if (known) {
        if (known.expiresAtMs > Date.now()) return known.actor;
        verified.delete(token);
        throw tokenExpired();
      }
      const key = byKid.get(headerKid(token) ?? '');
      if (!key) throw invalidToken();
      let payload: unknown;
      try {
        payload = jwt.verify(token, key, { algorithms: [ALGORITHM], issuer: ISSUER, audience: AUDIENCE });
      } catch (err) {
        if (err instanceof jwt.TokenExpiredError) throw tokenExpired();
        throw invalidToken();
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw invalidToken();
      const actor: TokenActor = { id: claims.data.sub, role: claims.data.role, tokenVersion: claims.data.ver };
      if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value as string);
      verified.set(token, { actor, expiresAtMs: claims.data.exp * 1000 });
      return actor;
    },
  };
}

function headerKid(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown; alg?: unknown };
    return header.alg === ALGORITHM && typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** `Authorization: Bearer <token>` → the token, or undefined when the header is absent. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match?.[1]) throw problem('invalid_token', 'scheme');
  return match[1];
}

/** For any entry point (an RPC handler's `actor`, users-service's `actorFromRequest`): the verified caller, or a 401 when there is none. */
export function requireActor<A extends Actor>(actor: A | null): A {
  if (!actor) throw problem('unauthorized');
  return actor;
}
