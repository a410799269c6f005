import type { Actor, contracts } from '@market/common';
import type { UserRecord } from '../data-access/user-repository';

/** What a viewer may see of a user: the email only for the user themself or an admin; never the hash. */
export function userView(user: UserRecord, viewer: Actor | null): contracts.User {
  const privileged = viewer !== null && (viewer.id === user.id || viewer.role === 'admin');
  return { id: user.id, ...(privileged ? { email: user.email } : {}), name: user.name, role: user.role, createdAt: user.createdAt };
}

export interface PublicProfile {
  id: string;
  name: string;
  createdAt: string;
}

export const publicProfile = (user: UserRecord): PublicProfile => ({ id: user.id, name: user.name, createdAt: user.createdAt });
