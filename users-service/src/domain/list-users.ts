import type { contracts } from '@market/common';
import type { UsersDeps } from './deps';
import { type PublicProfile, publicProfile } from './user-view';

export async function listUsers(deps: UsersDeps, limit: number, offset: number): Promise<contracts.Page<PublicProfile>> {
  const { items, total } = await deps.users.list(limit, offset);
  return { items: items.map(publicProfile), limit, offset, total };
}
