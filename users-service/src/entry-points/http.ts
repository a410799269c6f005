import express, { type Request, type Router } from 'express';
import { type Actor, bearerToken, contracts, unauthorized, validate } from '@market/common';
import * as accounts from '../domain/accounts';
import * as sessions from '../domain/sessions';
import type { UsersDeps } from '../domain/deps';

/**
 * users-service verifies the access token itself (the gateway forwards it), so identity never rests
 * on a header a client could forge even if this port were reachable.
 */
function actorOf(deps: UsersDeps, req: Request): Actor | null {
  const token = bearerToken(req.get('authorization'));
  return token === undefined ? null : deps.accessTokens.verify(token);
}

function requireActor(deps: UsersDeps, req: Request): Actor {
  const actor = actorOf(deps, req);
  if (!actor) throw unauthorized();
  return actor;
}

const idOf = (req: Request): string => validate(contracts.idParams, req.params, 'path').id;

export function usersRoutes(deps: UsersDeps): Router {
  const router = express.Router();

  router.post('/users', async (req, res) => {
    res.status(201).json(await sessions.signUp(deps, validate(contracts.signupBody, req.body, 'request body')));
  });

  router.post('/signin', async (req, res) => {
    res.json(await sessions.signIn(deps, validate(contracts.signinBody, req.body, 'request body')));
  });

  router.post('/token/refresh', async (req, res) => {
    const { refreshToken } = validate(contracts.refreshBody, req.body, 'request body');
    res.json(await sessions.refreshSession(deps, refreshToken));
  });

  router.post('/signout', async (req, res) => {
    const actor = requireActor(deps, req);
    const { refreshToken } = validate(contracts.refreshBody, req.body, 'request body');
    await sessions.signOut(deps, actor.id, refreshToken);
    res.status(204).end();
  });

  router.get('/users', async (req, res) => {
    const { limit, offset } = validate(contracts.usersQuery, req.query, 'query');
    res.json(await accounts.listUsers(deps, limit, offset));
  });

  router.get('/users/me', async (req, res) => {
    const actor = requireActor(deps, req);
    res.json({ user: await accounts.getUser(deps, actor.id, actor) });
  });

  router.get('/users/:id', async (req, res) => {
    const viewer = actorOf(deps, req);
    res.json({ user: await accounts.getUser(deps, idOf(req), viewer) });
  });

  router.patch('/users/:id', async (req, res) => {
    const actor = requireActor(deps, req);
    const id = idOf(req);
    res.json({ user: await accounts.updateUser(deps, actor, id, validate(contracts.updateUserBody, req.body, 'request body')) });
  });

  router.delete('/users/:id', async (req, res) => {
    const actor = requireActor(deps, req);
    await accounts.deleteUser(deps, actor, idOf(req));
    res.status(204).end();
  });

  return router;
}
