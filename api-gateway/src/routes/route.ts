import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { type Actor, forbidden, unauthorized, validate } from '@market/common';
import { edgeRound } from '../http/edge-round';
import type { CacheKey, CacheLookup } from '../http/read-cache';

export type Access = 'anyone' | 'signed-in' | 'admin';

export interface Reply {
  status: number;
  /** A JSON value to send… */
  json?: unknown;
  /** …or a body that is already serialized (cache hits, users-service answers). */
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B> {
  actor: Actor | null;
  /** The caller's access token, verified here and forwarded so the service verifies it too. */
  token: string | null;
  params: P;
  query: Q;
  body: B;
  req: Request;
  /** A cacheable read's entry, and the lookup the request's Redis round trip already made, if it did. */
  cached?: { key: CacheKey; found?: CacheLookup };
}

/**
 * One gateway route: what it accepts (the same zod schemas the services validate with), who may call
 * it, and what it answers. The Express router and the OpenAPI document are both built from these.
 */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express syntax: `/listings/:id`. */
  path: string;
  /** The OpenAPI operationId: a verb and a noun, unique across the gateway (client generators name methods after it). */
  operationId: string;
  tag: 'users' | 'listings' | 'orders' | 'payments';
  summary: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  headers?: z.ZodObject;
  success: { status: number; description: string; schema?: z.ZodType };
  /** Other successful answers (a 202 while something finishes elsewhere), documented beside `success`. */
  alsoSucceeds?: { status: number; description: string; schema?: z.ZodType }[];
  /** Statuses of the problems this route documents (400, 401, 429 and 5xx apply to every route). */
  problems: number[];
  /** A cacheable GET: the entry that answers it. Known before the rate limiter, so the lookup rides with the count. */
  cacheKey?(input: { params: z.infer<P>; query: z.infer<Q>; actor: Actor | null }): CacheKey;
  handle(input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>>): Promise<Reply>;
}

/** Erases the generic parameters so routes of different shapes fit in one table. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

function authorize(access: Access, actor: Actor | null): void {
  if (access === 'anyone') return;
  if (!actor) throw unauthorized();
  if (access === 'admin' && actor.role !== 'admin') throw forbidden('Only an admin can do this.');
}

export function mountRoute(router: Router, spec: AnyRoute): void {
  router[spec.method](spec.path, async (req: Request, res: Response) => {
    const actor = req.actor ?? null;
    authorize(spec.access, actor);
    // A cacheable read planned before the limiter (edge-round.ts) was parsed and keyed there already.
    const round = edgeRound();
    const planned = round?.cached?.route === spec ? round.cached : undefined;
    const params = planned ? planned.params : spec.params ? validate(spec.params, req.params, 'path') : {};
    const query = planned ? planned.query : spec.query ? validate(spec.query, req.query, 'query') : {};
    const body = spec.body ? validate(spec.body, req.body ?? {}, 'request body') : undefined;
    const input: RouteInput<unknown, unknown, unknown> = { actor, token: actor ? (req.accessToken ?? null) : null, params, query, body, req };
    if (planned) input.cached = round?.cacheFound ? { key: planned.key, found: round.cacheFound } : { key: planned.key };
    else if (spec.cacheKey) input.cached = { key: spec.cacheKey({ params, query, actor }) };
    send(res, await spec.handle(input));
  });
}

function send(res: Response, reply: Reply): void {
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status);
  if (reply.raw) res.type(reply.raw.contentType).send(reply.raw.body);
  else if (reply.json !== undefined) res.json(reply.json);
  else res.end();
}
