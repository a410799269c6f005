import { createHash, randomBytes, randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { AppError, isDuplicateKey, type contracts, type Knex } from '@market/common';
import type { UserRecord } from '../data-access/user-repository';
import type { UsersDeps } from './deps';
import { userView } from './user-view';

type SignupInput = z.infer<typeof contracts.signupBody>;
type SigninInput = z.infer<typeof contracts.signinBody>;

export interface Session {
  user: contracts.User;
  accessToken: string;
  refreshToken: string;
}

const invalidCredentials = (): AppError => new AppError(401, 'invalid_credentials', 'The email or password is not correct.');
const invalidRefreshToken = (): AppError => new AppError(401, 'invalid_refresh_token', 'The refresh token is not valid. Please sign in again.');

// Compared against when the email is unknown, so both failures take the same time.
let dummyHash: Promise<string> | undefined;

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function signUp(deps: UsersDeps, input: SignupInput, role: 'user' | 'admin' = 'user'): Promise<Session> {
  const passwordHash = await bcrypt.hash(input.password, deps.bcryptRounds);
  let user: UserRecord;
  try {
    user = await deps.users.insert({ id: randomUUID(), email: input.email, name: input.name, passwordHash, role });
  } catch (err) {
    if (isDuplicateKey(err)) throw new AppError(409, 'email_taken', 'An account with this email already exists.');
    throw err;
  }
  return openSession(deps, user, randomUUID());
}

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
    throw new AppError(429, 'too_many_signin_failures', 'Too many failed sign-ins for this account. Please wait before trying again; Retry-After says how long.', undefined, retryAfterSeconds);
  }
  dummyHash ??= bcrypt.hash('not-a-real-password', deps.bcryptRounds);
  const matches = await bcrypt.compare(input.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !matches) throw invalidCredentials(); // the recorded attempt stays: it was a failure
  await deps.users.forgetSigninAttempt(attempt);
  return openSession(deps, user, randomUUID());
}

/** Rotation: the presented token is spent; presenting a spent token again revokes its whole family. */
export async function refreshSession(deps: UsersDeps, refreshToken: string): Promise<Omit<Session, 'user'>> {
  const stored = await deps.users.findRefreshToken(hashRefreshToken(refreshToken));
  if (!stored || stored.expiresAt.getTime() <= Date.now()) throw invalidRefreshToken();
  if (stored.revokedReason !== null && stored.revokedReason !== 'rotated') throw invalidRefreshToken();
  // Conditional: of two concurrent refreshes with one token, one rotates it and the other is a reuse.
  if (stored.revokedReason === 'rotated' || !(await deps.users.rotateRefreshToken(stored.id))) {
    await deps.users.revokeFamily(stored.familyId, 'reuse_detected');
    throw new AppError(401, 'refresh_token_reused', 'This refresh token was already used. For safety, every session started from it has been signed out.');
  }
  const user = await deps.users.findById(stored.userId);
  if (!user) throw invalidRefreshToken();
  const { accessToken, refreshToken: next } = await openSession(deps, user, stored.familyId);
  return { accessToken, refreshToken: next };
}

/** Every session of the user ends: refresh tokens revoked and, within a second everywhere, every access token. */
export async function signOutEverywhere(deps: UsersDeps, userId: string): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await deps.users.revokeAllFor(userId, 'signed_out_everywhere', trx);
    await revokeAccessTokens(deps, trx, userId);
  });
}

/** Bumps the user's token version and tells every service, in the same transaction as the change. */
export async function revokeAccessTokens(deps: UsersDeps, trx: Knex.Transaction, userId: string): Promise<void> {
  const tokenVersion = await deps.users.bumpTokenVersion(userId, trx);
  await deps.outbox.publish(trx, 'user.sessions_revoked', { userId, tokenVersion });
}

export async function signOut(deps: UsersDeps, actorId: string, refreshToken: string): Promise<void> {
  const stored = await deps.users.findRefreshToken(hashRefreshToken(refreshToken));
  // Someone else's token is treated like an unknown one: nothing about it is revealed or changed.
  if (!stored || stored.userId !== actorId) throw invalidRefreshToken();
  await deps.users.revokeFamily(stored.familyId, 'signed_out');
}

async function openSession(deps: UsersDeps, user: UserRecord, familyId: string): Promise<Session> {
  const refreshToken = randomBytes(32).toString('base64url');
  await deps.users.insertRefreshToken({
    id: randomUUID(),
    tokenHash: hashRefreshToken(refreshToken),
    userId: user.id,
    familyId,
    expiresAt: new Date(Date.now() + deps.refreshTokenTtlSeconds * 1000),
  });
  const actor = { id: user.id, role: user.role, tokenVersion: user.tokenVersion };
  return { user: userView(user, actor), accessToken: deps.tokenSigner.sign(actor), refreshToken };
}
