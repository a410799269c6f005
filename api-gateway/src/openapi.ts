import { STATUS_CODES } from 'node:http';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { catalogueRows, contracts, problem as cataloguedProblem } from '@market/common';
import { isAnonymousRoute } from './http/authenticate';
import type { AnyRoute } from './routes/route';

const fieldError = z
  .object({
    field: z.string().meta({ description: 'The bad field: a body field (`priceCents`, `changes.title`), a query or path parameter, a header, or `(body)` for the body as a whole' }),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });

const problemSchema = z
  .object({
    type: z.string().meta({ description: '`urn:market:problem:<code>`' }),
    title: z.string().meta({ description: "The status's reason phrase" }),
    status: z.number().int(),
    detail: z.string().meta({ description: 'A sentence a person can read' }),
    code: z.string().meta({ description: 'Stable and machine readable: what a client branches on' }),
    errors: z.array(fieldError).optional().meta({ description: 'Every bad field of a 400' }),
    requestId: z.string().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; a problem may add members of its own (e.g. the `orderId` you already hold).' });

/**
 * Each problem status's description: every code of the error catalogue answered with it, and when
 * (a route meets only some of them).
 */
const PROBLEM_DESCRIPTIONS: Record<number, string> = Object.fromEntries(
  [...new Set(catalogueRows().map((row) => row.status))].map((status) => [
    status,
    [
      `${STATUS_CODES[status] ?? 'Problem'}; \`code\` is one of:`,
      '',
      ...catalogueRows()
        .filter((row) => row.status === status)
        .map((row) => `- \`${row.code}\`: ${row.description}`),
    ].join('\n'),
  ]),
);
/** Problems any route of the table may answer, besides its own `problems`. */
const ALWAYS = [400, 429, 500, 503, 504];

/** Bytes of any type (a file), as a request body or an answer. */
const BINARY = { type: 'string', contentMediaType: 'application/octet-stream' } as const;
const CONTENT_DISPOSITION = {
  description: "`attachment` with the file's name (`filename`, and `filename*` in UTF-8 when it is not plain ASCII)",
  schema: { type: 'string' as const },
};

/** `/listings/:id` → `/listings/{id}` */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:([A-Za-z_]+)/g, '{$1}');

/** `Payload Too Large` → `PayloadTooLarge`: the name of a status's problem response. */
const responseName = (status: number): string => (STATUS_CODES[status] ?? `Status${status}`).replace(/[^A-Za-z0-9]/g, '');

/** A schema's first example (its `.meta({ examples })`), shown with the media type: Swagger UI's "Try it out" starts from it. */
export function exampleOf(schema: z.ZodType): unknown {
  const examples = schema.meta()?.examples;
  return Array.isArray(examples) ? examples[0] : undefined;
}

/**
 * The statuses of the problems a route of the table answers with: its own, those of every route, 401
 * wherever a token is read (a bad or revoked one is refused even on public routes; the anonymous
 * routes ignore tokens and answer their own 401s), and 413/415 wherever a JSON body may be sent.
 */
export function problemStatuses(route: AnyRoute): number[] {
  const statuses = new Set([...ALWAYS, ...route.problems]);
  if (route.access !== 'anyone' || !isAnonymousRoute(route.method.toUpperCase(), route.path)) statuses.add(401);
  if (route.method !== 'get' && !route.rawBody) statuses.add(413).add(415);
  return [...statuses].sort((a, b) => a - b);
}

/** The OpenAPI 3.1 document, built from the same route table (and zod schemas) the gateway serves. */
export function buildOpenApiDocument(routes: AnyRoute[]): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const header = {
    requestId: registry.registerComponent('headers', 'X-Request-Id', {
      description: 'The id of this request in every log line about it, in every service: the `X-Request-Id` the client sent (1..128 of `A-Za-z0-9._:-`), else a new UUID',
      required: true,
      schema: { type: 'string' },
    }).ref,
    rateLimit: registry.registerComponent('headers', 'RateLimit', {
      description: "The client's quota in the current window (IETF draft 7): `limit=5, remaining=4, reset=10`, `reset` in seconds. Absent while the limiter's store (Redis) cannot be reached: requests then pass uncounted",
      schema: { type: 'string' },
    }).ref,
    rateLimitPolicy: registry.registerComponent('headers', 'RateLimit-Policy', {
      description: 'The limit and its window in seconds: `5;w=10` (`RATE_LIMIT_MAX` per `RATE_LIMIT_WINDOW_MS`)',
      schema: { type: 'string' },
    }).ref,
    retryAfter: registry.registerComponent('headers', 'Retry-After', {
      description: 'Seconds to wait before trying again: on every 429, and on a 503 that knows when trying again can succeed',
      schema: { type: 'integer', minimum: 1 },
    }).ref,
    cache: registry.registerComponent('headers', 'X-Cache', { description: 'Whether the gateway\'s read cache answered (`HIT`) or the service did (`MISS`)', schema: { type: 'string', enum: ['HIT', 'MISS'] } }).ref,
  };
  /** What every answer of a rate-limited route carries. */
  const limited = { 'X-Request-Id': header.requestId, RateLimit: header.rateLimit, 'RateLimit-Policy': header.rateLimitPolicy };
  const withRetryAfter = (status: number): Record<string, { $ref: string }> => (status === 429 || status === 503 ? { 'Retry-After': header.retryAfter } : {});
  // Named by its `.meta({ id })`: one `Problem` component, referenced by every problem answer.
  const problemContent = { 'application/problem+json': { schema: problemSchema } };
  /** One problem response per status (`#/components/responses/NotFound`), shared by the rate-limited routes. */
  const problemResponses = new Map<number, { $ref: string }>();
  const problemResponse = (status: number): { $ref: string } => {
    let response = problemResponses.get(status);
    if (!response) {
      response = registry.registerComponent('responses', responseName(status), {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem',
        headers: { ...limited, ...withRetryAfter(status) },
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      }).ref;
      problemResponses.set(status, response);
    }
    return response;
  };

  for (const route of routes) {
    const example = route.body ? exampleOf(route.body) : undefined;
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      // Public operations say so (`security: []`): no bearer token is needed, and none is sent.
      security: route.access === 'anyone' ? [] : [{ [bearer.name]: [] }],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body, ...(example === undefined ? {} : { example }) } } } } : {}),
        ...(route.rawBody ? { body: { required: true, description: route.rawBody.description, content: { '*/*': { schema: BINARY } } } } : {}),
      },
      responses: {
        [route.success.status]: {
          description: route.success.description,
          headers: { ...limited, ...(route.cacheKey ? { 'X-Cache': header.cache } : {}), ...(route.success.file ? { 'Content-Disposition': CONTENT_DISPOSITION } : {}) },
          ...(route.success.schema ? { content: { 'application/json': { schema: route.success.schema } } } : {}),
          ...(route.success.file ? { content: { '*/*': { schema: BINARY } } } : {}),
        },
        ...Object.fromEntries(
          (route.alsoSucceeds ?? []).map((other) => [
            other.status,
            { description: other.description, headers: limited, ...(other.schema ? { content: { 'application/json': { schema: other.schema } } } : {}) },
          ]),
        ),
        ...Object.fromEntries(
          problemStatuses(route).map((status) => [
            status,
            status === 413 && route.rawBody
              ? { description: `${cataloguedProblem('payload_too_large', 'file', route.rawBody.maxBytes).detail} (\`payload_too_large\`)`, headers: limited, content: problemContent }
              : problemResponse(status),
          ]),
        ),
      },
    });
  }
  const webhookProblem = (description: string, headers = {}) => ({ description, headers: { ...limited, ...headers }, content: problemContent });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/stripe',
    operationId: 'receiveStripeWebhook',
    tags: ['payments'],
    summary: "Stripe's events (for Stripe only): 3-D Secure outcomes, lapsed authorizations, refunds, disputes",
    description:
      'The raw event as Stripe sends it, verified by payments-service against `STRIPE_WEBHOOK_SECRET` (the `Stripe-Signature` header, 5-minute tolerance). ' +
      'Each event is handled once by its id; what it says is read back from Stripe before anything changes. Not subject to the per-client rate limit, ' +
      'but bounded (`WEBHOOK_RATE_LIMIT_MAX` per `WEBHOOK_RATE_LIMIT_WINDOW_MS` for all senders) and at most 512 kB.',
    security: [],
    request: {
      headers: z.object({ 'stripe-signature': z.string().meta({ description: 't=<unix seconds>,v1=<HMAC-SHA256 hex>' }) }),
      body: { required: true, content: { 'application/json': { schema: z.object({ id: z.string(), type: z.string(), data: z.object({ object: z.record(z.string(), z.unknown()) }) }) } } },
    },
    responses: {
      200: { description: 'Received (handled, a duplicate, or not about a payment of ours)', headers: limited, content: { 'application/json': { schema: z.object({ received: z.literal(true) }) } } },
      400: webhookProblem('The signature does not verify (`invalid_signature`), or the header or body is missing; nothing changed'),
      413: webhookProblem('The body is larger than 512 kB'),
      429: webhookProblem('Over the webhook bound; Stripe delivers again later', withRetryAfter(429)),
      500: problemResponse(500),
      503: webhookProblem('Not handled yet (payments-service or Stripe did not answer, or webhooks are not configured): Stripe delivers again later', withRetryAfter(503)),
      504: webhookProblem('payments-service did not answer in time: Stripe delivers again later'),
    },
  });
  const streamProblem = (description: string) => ({ description, headers: { 'X-Request-Id': header.requestId, 'Retry-After': header.retryAfter }, content: problemContent });
  registry.registerPath({
    method: 'get',
    path: '/events',
    operationId: 'streamListingEvents',
    tags: ['listings'],
    summary: 'Live listing changes as Server-Sent Events (created, changed, reserved, released, sold, deleted)',
    description:
      'A `text/event-stream` for `EventSource`: no token. Each change is `id: <id>`, `event: listing`, `data: {"type":"created|changed|reserved|released|sold|deleted","listing":{…}}` ' +
      'with the public listing; a change whose listing `version` is below the one a page already holds is older news, and `deleted` is final. The ids are the same on every gateway replica: ' +
      'reconnecting with `Last-Event-ID` replays the changes after it, or sends `event: reset` (reload the data, then carry on) when they are no longer all kept (about `SSE_BACKLOG`). ' +
      'The first message sets `retry` and the current id; `: heartbeat` comments come every `SSE_HEARTBEAT_MS`. Not subject to the per-client request limit: ' +
      'a client address may hold `SSE_MAX_PER_CLIENT` streams at once across replicas.',
    security: [],
    request: {
      headers: z.object({
        'last-event-id': z.string().optional().meta({ description: 'The id of the last change received (`<ms>-<seq>`), which EventSource sends when it reconnects; any other value gets `event: reset`' }),
      }),
    },
    responses: {
      200: {
        description: 'The stream, open until the client or the server ends it',
        headers: { 'X-Request-Id': header.requestId },
        content: { 'text/event-stream': { schema: z.string().meta({ examples: ['id: 1767225600000-0\nevent: listing\ndata: {"type":"sold","listing":{"id":"…","status":"sold","version":3}}\n\n'] }) } },
      },
      429: streamProblem('This client address already holds `SSE_MAX_PER_CLIENT` streams (`too_many_streams`); `Retry-After` says when the soonest of them would lapse if it is gone'),
      503: streamProblem('Live updates are unavailable (`live_updates_unavailable`: Redis unreachable, the gateway stopping, or at `SSE_MAX_CONNECTIONS`); try again after `Retry-After`'),
    },
  });
  const operations = [
    ['/healthz', 'getLiveness', 'Liveness: the process answers (it asks nothing outside itself)'],
    ['/readyz', 'getReadiness', 'Readiness: started, not shutting down, and not cut off from every backend (one dependency down does not make it unready)'],
  ] as const;
  const status = z.object({ status: z.string() });
  for (const [path, operationId, summary] of operations) {
    registry.registerPath({
      method: 'get',
      path,
      operationId,
      tags: ['operations'],
      summary,
      security: [],
      responses: {
        200: { description: 'OK', headers: { 'X-Request-Id': header.requestId }, content: { 'application/json': { schema: status } } },
        ...(path === '/readyz'
          ? { 503: { description: 'Not ready; `reason` says why (starting, shutting_down, no_backend_reachable)', headers: { 'X-Request-Id': header.requestId }, content: { 'application/json': { schema: status.extend({ reason: z.string() }) } } } }
          : {}),
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'market',
      version: '1.0.0',
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Buy and sell tickets and digital goods. Every error is an RFC 9457 problem (`application/problem+json`). ' +
        `Money (priceCents, amountCents) is an integer in the currency's minor unit: cents for usd, yen for the zero-decimal jpy and krw, thousandths for the three-decimal bhd, jod, kwd and omr. ` +
        `Currencies: ${contracts.CURRENCY_CODES.join(', ')} (default ${contracts.DEFAULT_CURRENCY}); each amount must be one Stripe charges in its currency ` +
        `(at least its minimum, e.g. ${contracts.MINIMUM_EXAMPLES}, at most ${contracts.MAX_AMOUNT} minor units, and a multiple of 10 in the three-decimal currencies).`,
    },
    servers: [{ url: '/' }],
  });
}
