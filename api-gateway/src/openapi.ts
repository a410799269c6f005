import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { contracts } from '@market/common';
import type { AnyRoute } from './routes/route';

const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  requestId: z.string().optional(),
});

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400:
    'Invalid input: malformed JSON, a body that does not decode as its `Content-Encoding` (`invalid_body`), a `Content-Encoding` other than gzip or deflate (`unsupported_encoding`), or every bad field listed in `errors`. ' +
    "Money: a new price its currency cannot be charged at (`invalid_price`, naming `priceCents`), or an amount or currency the payment provider cannot charge (`amount_too_small`, `amount_too_large`, `invalid_charge_amount`, `invalid_currency`: Stripe's per-currency minimum, maximum and step)",
  401: 'Missing, invalid or expired access token',
  402: 'The card was declined (`card_declined`); the order stays pending',
  403: 'Signed in, but not allowed to do this',
  404: 'Not found (or not yours)',
  409: 'Conflicts with the current state (e.g. `listing_reserved`, `listing_sold`, `order_not_pending`)',
  410: 'The download link has expired, been used up or been revoked (`link_gone`)',
  413: 'The body is larger than 100 kB',
  415: 'The body is not JSON (`unsupported_media_type`)',
  429: 'Rate limited; see `Retry-After` and the `RateLimit` headers',
  503: 'A backing service is unavailable',
  504: 'A backing service did not answer in time',
};
const ALWAYS = [400, 429, 503, 504];

/** Bytes of any type (a file), as a request body or an answer. */
const BINARY = { type: 'string', contentMediaType: 'application/octet-stream' } as const;
const FILE_ANSWER = {
  headers: {
    'Content-Disposition': { description: '`attachment` with the file\'s name (`filename`, and `filename*` in UTF-8 when it is not plain ASCII)', schema: { type: 'string' as const } },
  },
  content: { '*/*': { schema: BINARY } },
};

/** `/listings/:id` → `/listings/{id}` */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:([A-Za-z_]+)/g, '{$1}');

/** The OpenAPI 3.1 document, built from the same route table (and zod schemas) the gateway serves. */
export function buildOpenApiDocument(routes: AnyRoute[]): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const route of routes) {
    const statuses = [...new Set([...ALWAYS, ...(route.access === 'anyone' ? [] : [401]), ...(route.body ? [415] : []), ...route.problems])].sort();
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
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
        ...(route.rawBody ? { body: { required: true, description: route.rawBody.description, content: { '*/*': { schema: BINARY } } } } : {}),
      },
      responses: {
        [route.success.status]: {
          description: route.success.description,
          ...(route.cacheKey ? { headers: { 'X-Cache': { description: 'HIT or MISS', schema: { type: 'string', enum: ['HIT', 'MISS'] } } } } : {}),
          ...(route.success.schema ? { content: { 'application/json': { schema: route.success.schema } } } : {}),
          ...(route.success.file ? FILE_ANSWER : {}),
        },
        ...Object.fromEntries(
          (route.alsoSucceeds ?? []).map((other) => [
            other.status,
            { description: other.description, ...(other.schema ? { content: { 'application/json': { schema: other.schema } } } : {}) },
          ]),
        ),
        ...Object.fromEntries(
          statuses.map((status) => [
            status,
            {
              description: (status === 413 && route.rawBody ? `${route.rawBody.tooLarge} (\`payload_too_large\`)` : PROBLEM_DESCRIPTIONS[status]) ?? 'Problem',
              content: { 'application/problem+json': { schema: problem } },
            },
          ]),
        ),
      },
    });
  }
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
      200: { description: 'Received (handled, a duplicate, or not about a payment of ours)', content: { 'application/json': { schema: z.object({ received: z.literal(true) }) } } },
      400: { description: 'The signature does not verify (`invalid_signature`), or the header or body is missing; nothing changed', content: { 'application/problem+json': { schema: problem } } },
      413: { description: 'The body is larger than 512 kB', content: { 'application/problem+json': { schema: problem } } },
      429: { description: 'Over the webhook bound; Stripe delivers again later', content: { 'application/problem+json': { schema: problem } } },
      503: { description: 'Not handled yet (payments-service or Stripe did not answer, or webhooks are not configured): Stripe delivers again later', content: { 'application/problem+json': { schema: problem } } },
    },
  });
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
        content: { 'text/event-stream': { schema: z.string().meta({ example: 'id: 1767225600000-0\nevent: listing\ndata: {"type":"sold","listing":{"id":"…","status":"sold","version":3}}\n\n' }) } },
      },
      429: {
        description: 'This client address already holds `SSE_MAX_PER_CLIENT` streams (`too_many_streams`); `Retry-After` says when the soonest of them would lapse if it is gone',
        headers: { 'Retry-After': { description: 'Seconds', schema: { type: 'integer' } } },
        content: { 'application/problem+json': { schema: problem } },
      },
      503: {
        description: 'Live updates are unavailable (`live_updates_unavailable`: Redis unreachable, the gateway stopping, or at `SSE_MAX_CONNECTIONS`); try again after `Retry-After`',
        headers: { 'Retry-After': { description: 'Seconds', schema: { type: 'integer' } } },
        content: { 'application/problem+json': { schema: problem } },
      },
    },
  });
  const operations = [
    ['/healthz', 'getLiveness', 'Liveness: the process answers (it asks nothing outside itself)'],
    ['/readyz', 'getReadiness', 'Readiness: started, not shutting down, and not cut off from every backend (one dependency down does not make it unready)'],
  ] as const;
  for (const [path, operationId, summary] of operations) {
    registry.registerPath({ method: 'get', path, operationId, tags: ['operations'], summary, security: [], responses: { 200: { description: 'OK' }, ...(path === '/readyz' ? { 503: { description: 'Not ready; `reason` says why (starting, shutting_down, no_backend_reachable)' } } : {}) } });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'market',
      version: '1.0.0',
      description:
        'Buy and sell tickets and digital goods. Every error is an RFC 9457 problem (`application/problem+json`). ' +
        `Money (priceCents, amountCents) is an integer in the currency's minor unit: cents for usd, yen for the zero-decimal jpy and krw, thousandths for the three-decimal bhd, jod, kwd and omr. ` +
        `Currencies: ${contracts.CURRENCY_CODES.join(', ')} (default ${contracts.DEFAULT_CURRENCY}); each amount must be one Stripe charges in its currency ` +
        `(at least its minimum, e.g. ${contracts.MINIMUM_EXAMPLES}, at most ${contracts.MAX_AMOUNT} minor units, and a multiple of 10 in the three-decimal currencies).`,
    },
    servers: [{ url: '/' }],
  });
}
