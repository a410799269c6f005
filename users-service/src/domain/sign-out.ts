import type { UsersDeps } from './deps';
import { hashRefreshToken, invalidRefreshToken } from './session-tokens';

/** Ends the session the refresh token belongs to (its whole rotation family). */
export async function signOut(deps: UsersDeps, actorId: string, refreshToken: string): Promise<void> {
  const stored = await deps.users.findRefreshToken(hashRefreshToken(refreshToken));
  // Someone else's token is treated like an unknown one: nothing about it is revealed or changed.
  if (!stored || stored.userId !== actorId) throw invalidRefreshToken();
  await deps.users.revokeFamily(stored.familyId, 'signed_out');
}
