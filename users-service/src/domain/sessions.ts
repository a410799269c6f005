import { createHash, randomBytes, randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { z } from 'zod';
import { AppError, isDuplicateKey, type contracts } from '@market/common';
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

export async function signIn(deps: UsersDeps, input: SigninInput): Promise<Session> {
  const user = await deps.users.findByEmail(input.email);
  dummyHash ??= bcrypt.hash('not-a-real-password', deps.bcryptRounds);
  const matches = await bcrypt.compare(input.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !matches) throw invalidCredentials();
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
  const actor = { id: user.id, role: user.role };
  return { user: userView(user, actor), accessToken: deps.accessTokens.sign(actor), refreshToken };
}
