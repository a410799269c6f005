import { AppError } from '@market/common';
import type { UsersDeps } from './deps';
import { signUp } from './sign-up';

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
