import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { type AppError, type contracts, problem } from '@market/common';
import type { UsersDeps } from './deps';
import { openSession, type Session } from './session-tokens';

type SigninInput = z.infer<typeof contracts.signinBody>;

const invalidCredentials = (): AppError => problem('invalid_credentials');

// Compared against when the email is unknown, so both failures take the same time.
let dummyHash: Promise<string> | undefined;

/**
 * Passwords are guessed per account from many addresses, so failures are counted per account too:
 * after `max` failures within the window every sign-in to it — even with the right password — is
 * refused until the oldest failure leaves the window. The account is the user (however its email is
 * spelled: the lookup ignores case and accents), or for an unknown email a hash of it, so the answer
 * never tells whether an account exists. Each attempt is recorded before its password is checked, so
 * guesses sent at the same moment count each other: no more than `max` are ever checked.
 */
export async function signIn(deps: UsersDeps, input: SigninInput): Promise<Session> {
  const { max, windowSeconds } = deps.signinFailures;
  const user = await deps.users.findByEmail(input.email);
  const account = user ? `user:${user.id}` : `email:${createHash('sha256').update(input.email).digest('hex')}`;
  const accountHash = createHash('sha256').update(account).digest('hex');
  const windowStart = new Date(Date.now() - windowSeconds * 1000);
  const attempt = await deps.users.recordSigninAttempt(accountHash, windowStart);
  const failures = await deps.users.recentSigninFailures(accountHash, windowStart);
  if (failures.length > max) {
    await deps.users.forgetSigninAttempt(attempt);
    const oldest = failures[failures.length - 1 - max] ?? windowStart;
    const retryAfterSeconds = Math.max(1, Math.ceil((oldest.getTime() + windowSeconds * 1000 - Date.now()) / 1000));
    throw problem('too_many_signin_failures', { retryAfterSeconds });
  }
  dummyHash ??= bcrypt.hash('not-a-real-password', deps.bcryptRounds);
  const matches = await bcrypt.compare(input.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !matches) throw invalidCredentials(); // the recorded attempt stays: it was a failure
  await deps.users.forgetSigninAttempt(attempt);
  return openSession(deps, user);
}
