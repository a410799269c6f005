import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type AppError, type contracts, type Knex, problem } from '@market/common';
import type { UserRecord } from '../data-access/user-repository';
import type { UsersDeps } from './deps';
import { userView } from './user-view';

// Issuing and revoking a user's tokens: what signing up, signing in, refreshing and account changes share.

export interface Session {
  user: contracts.User;
  accessToken: string;
  refreshToken: string;
}

export const invalidRefreshToken = (): AppError => problem('invalid_refresh_token');

// Only the hash is stored: a leaked table holds no usable refresh token.
export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function openSession(deps: UsersDeps, user: UserRecord, familyId: string = randomUUID()): Promise<Session> {
  const refreshToken = randomBytes(32).toString('base64url');
  await deps.users.insertRefreshToken({
    id: randomUUID(),
    tokenHash: hashRefreshToken(refreshToken),
    userId: user.id,
    familyId,
    expiresAt: new Date(Date.now() + deps.refreshTokenTtlSeconds * 1000),
  });
  const actor = { id: user.id, role: user.role, tokenVersion: user.tokenVersion };
  return { user: userView(user, actor), accessToken: deps.tokenSigner.sign(actor), refreshToken };
}

/** Bumps the user's token version and tells every service, in the same transaction as the change. */
export async function revokeAccessTokens(deps: UsersDeps, trx: Knex.Transaction, userId: string): Promise<void> {
  const tokenVersion = await deps.users.bumpTokenVersion(userId, trx);
  await deps.outbox.publish(trx, 'user.sessions_revoked', { userId, tokenVersion });
}
