import { type Actor, problem } from '@market/common';
import { lastAdmin, mayManage } from './account-rules';
import type { UsersDeps } from './deps';

/** The account and its refresh tokens go; `user.deleted` revokes its access tokens and withdraws its listings. */
export async function deleteUser(deps: UsersDeps, actor: Actor, id: string): Promise<void> {
  if (!mayManage(actor, id)) throw problem('forbidden', 'deleteOwnAccount');
  const deleted = await deps.db.transaction(async (trx) => {
    const user = await deps.users.findById(id, trx, true);
    if (!user) return false;
    if (user.role === 'admin' && (await deps.users.lockAdmins(trx)).length <= 1) throw lastAdmin();
    const gone = await deps.users.delete(id, trx);
    if (gone) await deps.outbox.publish(trx, 'user.deleted', { userId: id });
    return gone;
  });
  if (!deleted) throw problem('not_found', 'The user');
}
