import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { type Actor, AppError, type contracts, forbidden, notFound } from '@market/common';
import type { UsersDeps } from './deps';
import { publicProfile, userView } from './user-view';
import { signUp } from './sessions';

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

export async function updateUser(deps: UsersDeps, actor: Actor, id: string, changes: UpdateInput): Promise<contracts.User> {
  if (!mayManage(actor, id)) throw forbidden('You can only change your own account.');
  if (changes.role !== undefined && actor.role !== 'admin') throw forbidden('Only an admin can change a role.');
  const passwordHash = changes.password === undefined ? undefined : await bcrypt.hash(changes.password, deps.bcryptRounds);
  const updated = await deps.db.transaction(async (trx) => {
    const user = await deps.users.findById(id, trx);
    if (!user) return undefined;
    await deps.users.update(id, { ...(changes.name !== undefined ? { name: changes.name } : {}), ...(passwordHash ? { passwordHash } : {}), ...(changes.role ? { role: changes.role } : {}) }, trx);
    // A new password signs out every other session.
    if (passwordHash) await deps.users.revokeAllFor(id, 'password_changed', trx);
    return deps.users.findById(id, trx);
  });
  if (!updated) throw notFound('The user');
  return userView(updated, actor);
}

/** The account and its refresh tokens go; `user.deleted` lets listings withdraw what the user was selling. */
export async function deleteUser(deps: UsersDeps, actor: Actor, id: string): Promise<void> {
  if (!mayManage(actor, id)) throw forbidden('You can only delete your own account.');
  const deleted = await deps.db.transaction(async (trx) => {
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
