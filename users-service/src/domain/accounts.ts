import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { type Actor, AppError, type contracts, forbidden, notFound } from '@market/common';
import type { UsersDeps } from './deps';
import { publicProfile, userView } from './user-view';
import { revokeAccessTokens, signUp } from './sessions';

type UpdateInput = z.infer<typeof contracts.updateUserBody>;

const mayManage = (actor: Actor, userId: string): boolean => actor.id === userId || actor.role === 'admin';

export async function getUser(deps: UsersDeps, id: string, viewer: Actor | null): Promise<contracts.User> {
  const user = await deps.users.findById(id);
  if (!user) throw notFound('The user');
  return userView(user, viewer);
}

export async function listUsers(deps: UsersDeps, limit: number, offset: number): Promise<contracts.Page<ReturnType<typeof publicProfile>>> {
  const { items, total } = await deps.users.list(limit, offset);
  return { items: items.map(publicProfile), limit, offset, total };
}

const lastAdmin = (): AppError => new AppError(409, 'last_admin', 'This is the last admin account: make another admin first.');

/**
 * Changing your own password needs your current one (a stolen access token alone must not take over the
 * account); another user's password is reset only through the admin's explicit `resetPassword`. A new
 * password or role ends every session: refresh tokens revoked, access tokens revoked within a second.
 */
export async function updateUser(deps: UsersDeps, actor: Actor, id: string, changes: UpdateInput): Promise<contracts.User> {
  if (!mayManage(actor, id)) throw forbidden('You can only change your own account.');
  if (changes.role !== undefined && actor.role !== 'admin') throw forbidden('Only an admin can change a role.');
  if (changes.password !== undefined && actor.id !== id) {
    throw forbidden("Only the account's owner changes its password here; an admin resets it with POST /users/{id}/password.");
  }
  if (changes.password === undefined && changes.currentPassword !== undefined) {
    throw new AppError(400, 'validation_failed', 'The request body is not valid.', [{ field: 'currentPassword', message: 'is only used together with password' }]);
  }
  if (changes.password !== undefined) {
    if (changes.currentPassword === undefined) {
      throw new AppError(400, 'validation_failed', 'The request body is not valid.', [{ field: 'currentPassword', message: 'is required to change your password' }]);
    }
    const user = await deps.users.findById(id);
    if (!user) throw notFound('The user');
    if (!(await bcrypt.compare(changes.currentPassword, user.passwordHash))) {
      throw new AppError(403, 'current_password_incorrect', 'The current password is not correct.');
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
  if (!updated) throw notFound('The user');
  return userView(updated, actor);
}

/** An admin sets a new password for someone else's account; every session of that account ends. */
export async function resetPassword(deps: UsersDeps, actor: Actor, id: string, password: string): Promise<void> {
  if (actor.role !== 'admin') throw forbidden('Only an admin can reset a password.');
  if (actor.id === id) throw forbidden('Change your own password with PATCH /users/{id} and your current password.');
  const passwordHash = await bcrypt.hash(password, deps.bcryptRounds);
  const found = await deps.db.transaction(async (trx) => {
    if (!(await deps.users.findById(id, trx, true))) return false;
    await deps.users.update(id, { passwordHash }, trx);
    await deps.users.revokeAllFor(id, 'password_changed', trx);
    await revokeAccessTokens(deps, trx, id);
    return true;
  });
  if (!found) throw notFound('The user');
}

/** The account and its refresh tokens go; `user.deleted` revokes its access tokens and withdraws its listings. */
export async function deleteUser(deps: UsersDeps, actor: Actor, id: string): Promise<void> {
  if (!mayManage(actor, id)) throw forbidden('You can only delete your own account.');
  const deleted = await deps.db.transaction(async (trx) => {
    const user = await deps.users.findById(id, trx, true);
    if (!user) return false;
    if (user.role === 'admin' && (await deps.users.lockAdmins(trx)).length <= 1) throw lastAdmin();
    const gone = await deps.users.delete(id, trx);
    if (gone) await deps.outbox.publish(trx, 'user.deleted', { userId: id });
    return gone;
  });
  if (!deleted) throw notFound('The user');
}

/** Creates the admin account from ADMIN_EMAIL / ADMIN_PASSWORD when it does not exist yet. */
export async function ensureAdmin(deps: UsersDeps, email: string, password: string): Promise<'created' | 'exists'> {
  if (await deps.users.findByEmail(email.toLowerCase())) return 'exists';
  try {
    await signUp(deps, { email: email.toLowerCase(), password, name: 'Administrator' }, 'admin');
    return 'created';
  } catch (err) {
    if (err instanceof AppError && err.code === 'email_taken') return 'exists'; // another replica got there first
    throw err;
  }
}
