import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { type Actor, type contracts, problem } from '@market/common';
import { lastAdmin, mayManage } from './account-rules';
import type { UsersDeps } from './deps';
import { revokeAccessTokens } from './session-tokens';
import { userView } from './user-view';

type UpdateInput = z.infer<typeof contracts.updateUserBody>;

/**
 * Changing your own password needs your current one (a stolen access token alone must not take over the
 * account); another user's password is reset only through the admin's explicit `resetPassword`. A new
 * password or role ends every session: refresh tokens revoked, access tokens revoked within a second.
 */
export async function updateUser(deps: UsersDeps, actor: Actor, id: string, changes: UpdateInput): Promise<contracts.User> {
  if (!mayManage(actor, id)) throw problem('forbidden', 'changeOwnAccount');
  if (changes.role !== undefined && actor.role !== 'admin') throw problem('forbidden', 'changeRole');
  if (changes.password !== undefined && actor.id !== id) {
    throw problem('forbidden', 'passwordByOwner');
  }
  if (changes.password === undefined && changes.currentPassword !== undefined) {
    throw problem('validation_failed', 'body', { errors: [{ field: 'currentPassword', message: 'is only used together with password' }] });
  }
  if (changes.password !== undefined) {
    if (changes.currentPassword === undefined) {
      throw problem('validation_failed', 'body', { errors: [{ field: 'currentPassword', message: 'is required to change your password' }] });
    }
    const user = await deps.users.findById(id);
    if (!user) throw problem('not_found', 'The user');
    if (!(await bcrypt.compare(changes.currentPassword, user.passwordHash))) {
      throw problem('current_password_incorrect');
    }
  }
  const passwordHash = changes.password === undefined ? undefined : await bcrypt.hash(changes.password, deps.bcryptRounds);
  const updated = await deps.db.transaction(async (trx) => {
    const user = await deps.users.findById(id, trx, true);
    if (!user) return undefined;
    const roleChanges = changes.role !== undefined && changes.role !== user.role;
    if (roleChanges && user.role === 'admin' && (await deps.users.lockAdmins(trx)).length <= 1) throw lastAdmin();
    await deps.users.update(id, { ...(changes.name !== undefined ? { name: changes.name } : {}), ...(passwordHash ? { passwordHash } : {}), ...(roleChanges ? { role: changes.role } : {}) }, trx);
    if (passwordHash || roleChanges) {
      await deps.users.revokeAllFor(id, passwordHash ? 'password_changed' : 'role_changed', trx);
      await revokeAccessTokens(deps, trx, id);
    }
    return deps.users.findById(id, trx);
  });
  if (!updated) throw problem('not_found', 'The user');
  return userView(updated, actor);
}
