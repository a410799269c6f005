import type { UsersDeps } from './deps';
import { revokeAccessTokens } from './session-tokens';

/** Every session of the user ends: refresh tokens revoked and, within a second everywhere, every access token. */
export async function signOutEverywhere(deps: UsersDeps, userId: string): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await deps.users.revokeAllFor(userId, 'signed_out_everywhere', trx);
    await revokeAccessTokens(deps, trx, userId);
  });
}
