import express, { type Request, type Router } from 'express';
import { type Actor, bearerToken, contracts, problem, requireActor, TOKEN_RESPONSE_HEADERS, validate } from '@market/common';
import { currentUser, type SignedInUser } from '../domain/current-user';
import { deleteUser } from '../domain/delete-user';
import type { UsersDeps } from '../domain/deps';
import { getUser } from '../domain/get-user';
import { listUsers } from '../domain/list-users';
import { refreshSession } from '../domain/refresh-session';
import { resetPassword } from '../domain/reset-password';
import { signIn } from '../domain/sign-in';
import { signOut } from '../domain/sign-out';
import { signOutEverywhere } from '../domain/sign-out-everywhere';
import { signUp } from '../domain/sign-up';
import { updateUser } from '../domain/update-user';
import { userView } from '../domain/user-view';

/** The signed-in user the request's bearer token names, or null when it carries none. */
async function signedInUser(deps: UsersDeps, req: Request): Promise<SignedInUser | null> {
  const token = bearerToken(req.get('authorization'));
  return token === undefined ? null : currentUser(deps, token);
}

/** The caller the request's access token names, or null for an anonymous request; common's `requireActor` insists on one. */
async function actorFromRequest(deps: UsersDeps, req: Request): Promise<Actor | null> {
  return (await signedInUser(deps, req))?.actor ?? null;
}

const idOf = (req: Request): string => validate(contracts.idParams, req.params, 'path').id;

export function usersRoutes(deps: UsersDeps): Router {
  const router = express.Router();

  router.post('/users', async (req, res) => {
    res.status(201).set(TOKEN_RESPONSE_HEADERS).json(await signUp(deps, validate(contracts.signupBody, req.body, 'request body')));
  });

  router.post('/signin', async (req, res) => {
    res.set(TOKEN_RESPONSE_HEADERS).json(await signIn(deps, validate(contracts.signinBody, req.body, 'request body')));
  });

  router.post('/token/refresh', async (req, res) => {
    const { refreshToken } = validate(contracts.refreshBody, req.body, 'request body');
    res.set(TOKEN_RESPONSE_HEADERS).json(await refreshSession(deps, refreshToken));
  });

  router.post('/signout', async (req, res) => {
    const actor = requireActor(await actorFromRequest(deps, req));
    const { refreshToken } = validate(contracts.refreshBody, req.body, 'request body');
    await signOut(deps, actor.id, refreshToken);
    res.status(204).end();
  });

  router.post('/signout/everywhere', async (req, res) => {
    const actor = requireActor(await actorFromRequest(deps, req));
    await signOutEverywhere(deps, actor.id);
    res.status(204).end();
  });

  router.post('/users/:id/password', async (req, res) => {
    const actor = requireActor(await actorFromRequest(deps, req));
    await resetPassword(deps, actor, idOf(req), validate(contracts.resetPasswordBody, req.body, 'request body').password);
    res.status(204).end();
  });

  router.get('/users', async (req, res) => {
    const { limit, offset } = validate(contracts.usersQuery, req.query, 'query');
    res.json(await listUsers(deps, limit, offset));
  });

  router.get('/users/me', async (req, res) => {
    // The row the token was just checked against is the caller: no second read.
    const signedIn = await signedInUser(deps, req);
    if (!signedIn) throw problem('unauthorized');
    res.json({ user: userView(signedIn.user, signedIn.actor) });
  });

  router.get('/users/:id', async (req, res) => {
    const viewer = await actorFromRequest(deps, req);
    res.json({ user: await getUser(deps, idOf(req), viewer) });
  });

  router.patch('/users/:id', async (req, res) => {
    const actor = requireActor(await actorFromRequest(deps, req));
    const id = idOf(req);
    res.json({ user: await updateUser(deps, actor, id, validate(contracts.updateUserBody, req.body, 'request body')) });
  });

  router.delete('/users/:id', async (req, res) => {
    const actor = requireActor(await actorFromRequest(deps, req));
    await deleteUser(deps, actor, idOf(req));
    res.status(204).end();
  });

  return router;
}
