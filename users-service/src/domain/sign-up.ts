import { randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { isDuplicateKey, type contracts, problem } from '@market/common';
import type { UserRecord } from '../data-access/user-repository';
import type { UsersDeps } from './deps';
import { openSession, type Session } from './session-tokens';

type SignupInput = z.infer<typeof contracts.signupBody>;

export async function signUp(deps: UsersDeps, input: SignupInput, role: 'user' | 'admin' = 'user'): Promise<Session> {
  const passwordHash = await bcrypt.hash(input.password, deps.bcryptRounds);
  let user: UserRecord;
  try {
    user = await deps.users.insert({ id: randomUUID(), email: input.email, name: input.name, passwordHash, role });
  } catch (err) {
    if (isDuplicateKey(err)) throw problem('email_taken');
    throw err;
  }
  return openSession(deps, user);
}
