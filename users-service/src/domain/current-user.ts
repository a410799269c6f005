import { type Actor, tokenRevoked } from '@market/common';
import type { UserRecord } from '../data-access/user-repository';
import type { UsersDeps } from './deps';

export interface SignedInUser {
  actor: Actor;
  user: UserRecord;
}

/**
 * users-service verifies the access token itself (the gateway forwards it), so identity never rests
 * on a header a client could forge even if this port were reachable. The token must also be current:
 * issued at the user's present token version (no password, role or sign-out-everywhere change since)
 * to a user that still exists, and it carries the role the user has now.
 */
export async function currentUser(deps: UsersDeps, accessToken: string): Promise<SignedInUser> {
  const claimed = deps.tokenVerifier.verify(accessToken);
  const user = await deps.users.findById(claimed.id);
  if (!user || user.tokenVersion !== claimed.tokenVersion) throw tokenRevoked();
  return { actor: { id: user.id, role: user.role }, user };
}
