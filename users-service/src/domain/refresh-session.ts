import { problem } from '@market/common';
import type { UsersDeps } from './deps';
import { hashRefreshToken, invalidRefreshToken, openSession, type Session } from './session-tokens';

/** Rotation: the presented token is spent; presenting a spent token again revokes its whole family. */
export async function refreshSession(deps: UsersDeps, refreshToken: string): Promise<Omit<Session, 'user'>> {
  const stored = await deps.users.findRefreshToken(hashRefreshToken(refreshToken));
  if (!stored || stored.expiresAt.getTime() <= Date.now()) throw invalidRefreshToken();
  if (stored.revokedReason !== null && stored.revokedReason !== 'rotated') throw invalidRefreshToken();
  // Conditional: of two concurrent refreshes with one token, one rotates it and the other is a reuse.
  if (stored.revokedReason === 'rotated' || !(await deps.users.rotateRefreshToken(stored.id))) {
    await deps.users.revokeFamily(stored.familyId, 'reuse_detected');
    throw problem('refresh_token_reused');
  }
  const user = await deps.users.findById(stored.userId);
  if (!user) throw invalidRefreshToken();
  const { accessToken, refreshToken: next } = await openSession(deps, user, stored.familyId);
  return { accessToken, refreshToken: next };
}
