import bcrypt from 'bcrypt';
import { type Actor, problem } from '@market/common';
import type { UsersDeps } from './deps';
import { revokeAccessTokens } from './session-tokens';

/** An admin sets a new password for someone else's account; every session of that account ends. */
export async function resetPassword(deps: UsersDeps, actor: Actor, id: string, password: string): Promise<void> {
  if (actor.role !== 'admin') throw problem('forbidden', 'resetPassword');
  if (actor.id === id) throw problem('forbidden', 'resetOwnPassword');
  const passwordHash = await bcrypt.hash(password, deps.bcryptRounds);
  const found = await deps.db.transaction(async (trx) => {
    if (!(await deps.users.findById(id, trx, true))) return false;
    await deps.users.update(id, { passwordHash }, trx);
    await deps.users.revokeAllFor(id, 'password_changed', trx);
    await revokeAccessTokens(deps, trx, id);
    return true;
  });
  if (!found) throw problem('not_found', 'The user');
}
