// Who is signed in, for the components; signing in, up and out.
import { useEffect, useState } from 'preact/hooks';
import { accessToken, api, currentUser, endSession, onAuthChange, refreshTokenForSignOut, request, startSession, type SessionReply, type User } from './api';

/** The signed-in user, kept current (sign-in, sign-out, another tab, a refresh that found the session over). */
export function useUser(): User | null {
  const [user, setUser] = useState(currentUser);
  useEffect(() => onAuthChange(() => setUser(currentUser())), []);
  return user;
}

export async function signIn(email: string, password: string): Promise<User> {
  const reply = await api.anonymous<SessionReply>('POST', '/signin', { email, password });
  await startSession(reply);
  return reply.user;
}

export async function signUp(name: string, email: string, password: string): Promise<User> {
  const reply = await api.anonymous<SessionReply>('POST', '/users', { name, email, password });
  await startSession(reply);
  return reply.user;
}

/** Revokes the refresh token on the server, then forgets the session here whatever the answer. */
export async function signOut(): Promise<void> {
  try {
    // A refresh due now happens first, so the refresh token revoked is the current one.
    await accessToken();
    const refreshToken = await refreshTokenForSignOut();
    if (refreshToken) await request('POST', '/signout', { body: { refreshToken } });
  } catch {
    // Signed out here all the same: the refresh token is forgotten, and it expires on its own.
  } finally {
    endSession();
  }
}

export const isAdmin = (user: User | null): boolean => user?.role === 'admin';
