import { type Actor, type contracts, problem } from '@market/common';
import type { UsersDeps } from './deps';
import { userView } from './user-view';

export async function getUser(deps: UsersDeps, id: string, viewer: Actor | null): Promise<contracts.User> {
  const user = await deps.users.findById(id);
  if (!user) throw problem('not_found', 'The user');
  return userView(user, viewer);
}
