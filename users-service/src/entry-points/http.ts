import express, { type Request, type Router } from 'express';
import { type Actor, bearerToken, contracts, TOKEN_RESPONSE_HEADERS, tokenRevoked, unauthorized, validate } from '@market/common';
import * as accounts from '../domain/accounts';
import * as sessions from '../domain/sessions';
import type { UsersDeps } from '../domain/deps';
import { userView } from '../domain/user-view';
import type { UserRecord } from '../data-access/user-repository';

/**
 * users-service verifies the access token itself (the gateway forwards it), so identity never rests
 * on a header a client could forge even if this port were reachable. The token must also be current:
 * issued at the user's present token version (no password, role or sign-out-everywhere change since)
 * to a user that still exists, and it carries the role the user has now.
 */
async function signedIn(deps: UsersDeps, req: Request): Promise<{ actor: Actor; user: UserRecord } | null> {
  const token = bearerToken(req.get('authorization'));
  if (token === undefined) return null;
  const claimed = deps.tokenVerifier.verify(token);
  const user = await deps.users.findById(claimed.id);
  if (!user || user.tokenVersion !== claimed.tokenVersion) throw tokenRevoked();
  return { actor: { id: user.id, role: user.role }, user };
}

async function actorOf(deps: UsersDeps, req: Request): Promise<Actor | null> {
  return (await signedIn(deps, req))?.actor ?? null;
}

async function requireSignedIn(deps: UsersDeps, req: Request): Promise<{ actor: Actor; user: UserRecord }> {
  const current = await signedIn(deps, req);
  if (!current) throw unauthorized();
  return current;
}

async function requireActor(deps: UsersDeps, req: Request): Promise<Actor> {
  return (await requireSignedIn(deps, req)).actor;
}

const idOf = (req: Request): string => validate(contracts.idParams, req.params, 'path').id;

export function usersRoutes(deps: UsersDeps): Router {
  const router = express.Router();

  router.post('/users', async (req, res) => {
    res.status(201).set(TOKEN_RESPONSE_HEADERS).json(await sessions.signUp(deps, validate(contracts.signupBody, req.body, 'request body')));
  });

  router.post('/signin', async (req, res) => {
    res.set(TOKEN_RESPONSE_HEADERS).json(await sessions.signIn(deps, validate(contracts.signinBody, req.body, 'request body')));
  });

  router.post('/token/refresh', async (req, res) => {
    const { refreshToken } = validate(contracts.refreshBody, req.body, 'request body');
    res.set(TOKEN_RESPONSE_HEADERS).json(await sessions.refreshSession(deps, refreshToken));
  });

  router.post('/signout', async (req, res) => {
    const actor = await requireActor(deps, req);
    const { refreshToken } = validate(contracts.refreshBody, req.body, 'request body');
    await sessions.signOut(deps, actor.id, refreshToken);
    res.status(204).end();
  });

  router.post('/signout/everywhere', async (req, res) => {
    const actor = await requireActor(deps, req);
    await sessions.signOutEverywhere(deps, actor.id);
    res.status(204).end();
  });

  router.post('/users/:id/password', async (req, res) => {
    const actor = await requireActor(deps, req);
    await accounts.resetPassword(deps, actor, idOf(req), validate(contracts.resetPasswordBody, req.body, 'request body').password);
    res.status(204).end();
  });

  router.get('/users', async (req, res) => {
    const { limit, offset } = validate(contracts.usersQuery, req.query, 'query');
    res.json(await accounts.listUsers(deps, limit, offset));
  });

  router.get('/users/me', async (req, res) => {
    // The row the token was just checked against is the caller: no second read.
    const { actor, user } = await requireSignedIn(deps, req);
    res.json({ user: userView(user, actor) });
  });

  router.get('/users/:id', async (req, res) => {
    const viewer = await actorOf(deps, req);
    res.json({ user: await accounts.getUser(deps, idOf(req), viewer) });
  });

  router.patch('/users/:id', async (req, res) => {
    const actor = await requireActor(deps, req);
    const id = idOf(req);
    res.json({ user: await accounts.updateUser(deps, actor, id, validate(contracts.updateUserBody, req.body, 'request body')) });
  });

  router.delete('/users/:id', async (req, res) => {
    const actor = await requireActor(deps, req);
    await accounts.deleteUser(deps, actor, idOf(req));
    res.status(204).end();
  });

  return router;
}
