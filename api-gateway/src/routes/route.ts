import express, { type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { type Actor, type ParameterSource, problem, validate } from '@market/common';
import { edgeRound } from '../http/edge-round';
import type { CacheKey, CacheLookup } from '../http/read-cache';

export type Access = 'anyone' | 'signed-in' | 'admin';

export interface Reply {
  status: number;
  /** A JSON value to send… */
  json?: unknown;
  /** …or a body that is already serialized (cache hits, users-service answers), or bytes sent as they are (a file). */
  raw?: { body: string | Buffer; contentType: string };
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B, H = unknown> {
  actor: Actor | null;
  /** The caller's access token, verified here and forwarded so the service verifies it too. */
  token: string | null;
  params: P;
  query: Q;
  body: B;
  /** The headers the route declares, parsed by its `headers` schema (others are not in it). */
  headers: H;
  req: Request;
  /** A cacheable read's entry, and the lookup the request's Redis round trip already made, if it did. */
  cached?: { key: CacheKey; found?: CacheLookup };
  /** A `rawBody` route's body, read when the route asks (after its own checks), within `rawBody.maxBytes`. */
  readRawBody?: () => Promise<Buffer>;
}

/**
 * A route whose body is bytes of any type, not JSON (a file upload): read by the route itself, above the
 * global 100 kB JSON limit, only once the caller is authorized and the route's checks passed. A body over
 * `maxBytes` is a 413 as soon as that is known (from Content-Length, or while reading), and the connection
 * is closed instead of being read to its end.
 */
export interface RawBodySpec {
  /** The 413's detail says it in MB (the catalogue's `payload_too_large` for a file). */
  maxBytes: number;
  /** For the OpenAPI document: what the body is and which headers go with it. */
  description: string;
}

/**
 * One gateway route: what it accepts (the same zod schemas the services validate with), who may call
 * it, and what it answers. The Express router and the OpenAPI document are both built from these.
 */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, H extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
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
  /** Instead of a JSON `body`: the raw bytes (mounted before the JSON parser, see rawBodyRouter). */
  rawBody?: RawBodySpec;
  /** Request headers the route reads, validated like params and query (names in lower case; other headers pass by). */
  headers?: H;
  /** `file`: the answer is a file's bytes in its own type, as an attachment (`raw` with a Buffer). */
  success: { status: number; description: string; schema?: z.ZodType; file?: boolean };
  /** Other successful answers (a 202 while something finishes elsewhere), documented beside `success`. */
  alsoSucceeds?: { status: number; description: string; schema?: z.ZodType }[];
  /** Its path is a credential (a download link's token): a failure reaches the error log with the route's template instead. */
  pathIsSecret?: boolean;
  /** Statuses of the problems this route documents (400, 401, 429 and 5xx apply to every route). */
  problems: number[];
  /** A cacheable GET: the entry that answers it. Known before the rate limiter, so the lookup rides with the count. */
  cacheKey?(input: { params: z.infer<P>; query: z.infer<Q>; actor: Actor | null }): CacheKey;
  handle(input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>, z.infer<H>>): Promise<Reply>;
}

/** Erases the generic parameters so routes of different shapes fit in one table. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any, any>;

export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, H extends z.ZodType>(spec: RouteSpec<P, Q, B, H>): RouteSpec<P, Q, B, H> {
  return spec;
}

function authorize(access: Access, actor: Actor | null): void {
  if (access === 'anyone') return;
  if (!actor) throw problem('unauthorized');
  if (access === 'admin' && actor.role !== 'admin') throw problem('forbidden', 'adminOnly');
}

/** Mounts a route on the router, except a `rawBody` route, which rawBodyRouter mounts. */
export function mountRoute(router: Router, spec: AnyRoute): void {
  if (spec.rawBody) return;
  mountAny(router, spec);
}

/**
 * The `rawBody` routes, for mounting before the JSON parser (whose 100 kB limit and JSON-only rule they
 * are exempt from) and after authentication and the rate limiter, which they go through like any route.
 */
export function rawBodyRouter(routes: AnyRoute[]): Router {
  const router = express.Router();
  for (const spec of routes) if (spec.rawBody) mountAny(router, spec);
  return router;
}

function mountAny(router: Router, spec: AnyRoute): void {
  router[spec.method](spec.path, async (req: Request, res: Response) => {
    if (spec.rawBody) return handleRawBody(spec, spec.rawBody, req, res);
    if (spec.pathIsSecret) {
      return handle(spec, req, res).catch((err: unknown) => {
        // problemHandler logs a 5xx with the request's path: make it the template, never the token.
        req.url = spec.path;
        throw err;
      });
    }
    return handle(spec, req, res);
  });
}

async function handle(spec: AnyRoute, req: Request, res: Response): Promise<void> {
  const actor = req.actor ?? null;
  authorize(spec.access, actor);
  // A cacheable read planned before the limiter (edge-round.ts) was parsed and keyed there already.
  const round = edgeRound();
  const planned = round?.cached?.route === spec ? round.cached : undefined;
  const params = planned ? planned.params : parameters(spec, req, 'path');
  const query = planned ? planned.query : parameters(spec, req, 'query');
  const body = spec.body ? validate(spec.body, req.body ?? {}, 'request body') : undefined;
  const headers = parameters(spec, req, 'headers');
  const input: RouteInput<unknown, unknown, unknown> = { actor, token: actor ? (req.accessToken ?? null) : null, params, query, body, headers, req };
  if (planned) input.cached = round?.cacheFound ? { key: planned.key, found: round.cacheFound } : { key: planned.key };
  else if (spec.cacheKey) input.cached = { key: spec.cacheKey({ params, query, actor }) };
  send(res, await spec.handle(input));
}

/** A `rawBody` route: authorized and checked like any other, its body read only when the route asks for it. */
async function handleRawBody(spec: AnyRoute, rawBody: RawBodySpec, req: Request, res: Response): Promise<void> {
  let reading = false;
  try {
    const actor = req.actor ?? null;
    authorize(spec.access, actor);
    const params = parameters(spec, req, 'path');
    const query = parameters(spec, req, 'query');
    const headers = parameters(spec, req, 'headers');
    const readRawBody = (): Promise<Buffer> => {
      reading = true;
      return readBytes(req, rawBody);
    };
    send(res, await spec.handle({ actor, token: actor ? (req.accessToken ?? null) : null, params, query, body: undefined, headers, req, readRawBody }));
  } catch (err) {
    // Refused before its body was read (or while reading it): say so and hang up rather than take in up to maxBytes for nothing.
    if (!reading || !req.readableEnded) res.set('Connection', 'close');
    throw err;
  }
}

/** The route's path parameters, query or headers as its schema parses them (`{}` when it declares none). */
function parameters(spec: AnyRoute, req: Request, source: ParameterSource): unknown {
  switch (source) {
    case 'path':
      return spec.params ? validate(spec.params, req.params, 'path', source) : {};
    case 'query':
      return spec.query ? validate(spec.query, req.query, 'query', source) : {};
    case 'headers':
      return spec.headers ? validate(spec.headers, req.headers, 'request headers', source) : {};
  }
}

/** The request's bytes, at most `maxBytes` (413 from its Content-Length or as soon as more arrive). Sent as they are: no Content-Encoding. */
function readBytes(req: Request, { maxBytes }: RawBodySpec): Promise<Buffer> {
  const coding = req.get('content-encoding')?.trim().toLowerCase() || 'identity';
  if (coding !== 'identity') return Promise.reject(problem('unsupported_encoding', 'file'));
  const declared = Number(req.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(problem('payload_too_large', 'file', maxBytes));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onBroken).off('close', onBroken);
      req.pause();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      stop();
      reject(problem('payload_too_large', 'file', maxBytes));
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const onBroken = (): void => {
      stop();
      reject(problem('invalid_body', 'truncated'));
    };
    req.on('data', onData).on('end', onEnd).on('error', onBroken).on('close', onBroken);
  });
}

function send(res: Response, reply: Reply): void {
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status);
  // A file's bytes with its own type as given: res.type would add a charset to a text/* type.
  if (reply.raw && Buffer.isBuffer(reply.raw.body)) res.setHeader('Content-Type', reply.raw.contentType).end(reply.raw.body);
  else if (reply.raw) res.type(reply.raw.contentType).send(reply.raw.body);
  else if (reply.json !== undefined) res.json(reply.json);
  else res.end();
}
