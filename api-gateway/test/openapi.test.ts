import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReadCache } from '../src/http/read-cache';
import { UsersClient } from '../src/http/users-client';
import { openApiPath, problemStatuses } from '../src/openapi';
import { allRoutes } from '../src/routes';
import type { AnyRoute } from '../src/routes/route';
import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
});
afterAll(() => stack.stop());

interface Layer {
  route?: { path: string | RegExp; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method + path the gateway's Express app actually serves. */
function servedRoutes(layers: Layer[]): string[] {
  return layers.flatMap((layer) => {
    if (layer.route) {
      const { path } = layer.route;
      // The storefront's files are matched by a pattern: a page and its assets, not API operations.
      const shown = typeof path === 'string' ? openApiPath(path) : '<storefront asset>';
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${shown}`);
    }
    return layer.handle?.stack ? servedRoutes(layer.handle.stack) : [];
  });
}

// The documentation itself and the storefront (its page at / and its assets) are not API operations.
const OPERATIONAL = /^GET (\/(metrics|docs|docs\/init\.js|openapi\.json)?|<storefront asset>)$/;

async function documentedRoutes(): Promise<string[]> {
  const doc = (await client(stack).get('/openapi.json')).body;
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
}

type Json = any;

/** `{ $ref: '#/components/…' }` → what it names (anything else as it is). */
function resolve(doc: Json, node: Json): Json {
  if (!node?.$ref) return node;
  return resolve(doc, (node.$ref as string).slice(2).split('/').reduce((at: Json, key) => at[key], doc));
}

/** The gateway's route table, as the running gateway built it (the handlers are never called here). */
function routeTable(): AnyRoute[] {
  const { gateway } = stack;
  return allRoutes({
    rpc: gateway.rpc,
    cache: new ReadCache(gateway.redis, 'openapi-test', 0),
    users: new UsersClient('http://127.0.0.1:9', 1000),
    jwks: { keys: [] },
    paymentTimeoutMs: 1000,
    stripePublishableKey: null,
  });
}

test('the document is OpenAPI 3.1 and describes problems and bearer auth', async () => {
  const doc = (await client(stack).get('/openapi.json')).body;
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  const create = doc.paths['/listings'].post;
  expect(resolve(doc, create.requestBody.content['application/json'].schema).properties.priceCents).toMatchObject({ type: 'integer', minimum: 1, maximum: 99999999 });
  expect(resolve(doc, create.responses['400']).content['application/problem+json']).toBeDefined();
  expect(doc.paths['/listings/{id}'].get.responses['200'].headers['X-Cache']).toBeDefined();
});

test('every route the gateway serves is in the document, and the document names no route it does not serve', async () => {
  const app = stack.gateway.app as unknown as { router: { stack: Layer[] } };
  const served = servedRoutes(app.router.stack).filter((r) => !OPERATIONAL.test(r)).sort();
  expect(served.length).toBeGreaterThan(20);
  expect((await documentedRoutes()).sort()).toEqual(served);
});

test('the browsable page and its assets are served without a CDN', async () => {
  const page = await fetch(`${stack.url}/docs`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js');
  const bundle = await fetch(`${stack.url}/docs/assets/swagger-ui-bundle.js`);
  expect(bundle.status).toBe(200);
  expect((await bundle.text()).length).toBeGreaterThan(100_000);
});

test('every operation has its own operationId and says whether it needs a token (security: [] when public)', async () => {
  const doc = (await client(stack).get('/openapi.json')).body;
  const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string; security?: unknown[] }>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, ...op })),
  );
  const ids = operations.map((op) => op.operationId);
  expect(operations.filter((op) => !op.operationId)).toEqual([]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(operations.filter((op) => !Array.isArray(op.security)).map((op) => op.at)).toEqual([]);
  expect(doc.paths['/signin'].post.security).toEqual([]);
  expect(doc.paths['/orders'].post.security).toEqual([{ bearerAuth: [] }]);
});

test('every reusable body and reply is one named component, and the problem schema is defined once and referenced', async () => {
  const served = await client(stack).get('/openapi.json');
  const doc = served.body;
  const named = Object.keys(doc.components.schemas);
  for (const name of ['Problem', 'FieldError', 'Listing', 'ListingPage', 'Order', 'OrderPage', 'Payment', 'PaymentPage', 'Coupon', 'CouponPage', 'User', 'PublicUserPage', 'Goods', 'CreateListingRequest']) {
    expect(named).toContain(name);
  }
  // The problem's shape is written out once, in its component; every problem answer refers to it.
  const problemShapes: string[] = [];
  const walk = (node: Json, at: string): void => {
    if (typeof node !== 'object' || node === null) return;
    if (node.properties?.code && node.properties?.detail && node.properties?.requestId) problemShapes.push(at);
    for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
  };
  walk(doc, '#');
  expect(problemShapes).toEqual(['#/components/schemas/Problem']);
  expect(resolve(doc, doc.paths['/listings/{id}'].get.responses['200'].content['application/json'].schema).properties.listing).toEqual({ $ref: '#/components/schemas/Listing' });
});

test('every JSON request body has an example that the route itself accepts (Try it out sends it as it is)', async () => {
  const doc = (await client(stack).get('/openapi.json')).body;
  const withBody = routeTable().filter((route) => route.body);
  expect(withBody.length).toBeGreaterThan(10);
  const refused = withBody.flatMap((route) => {
    const at = `${route.method.toUpperCase()} ${openApiPath(route.path)}`;
    const example = doc.paths[openApiPath(route.path)][route.method].requestBody.content['application/json'].example;
    if (example === undefined) return [`${at}: no example`];
    const parsed = route.body!.safeParse(example);
    return parsed.success ? [] : [`${at}: ${JSON.stringify(parsed.error.issues)}`];
  });
  expect(refused).toEqual([]);
});

test('every status a route answers with is documented, with the headers every answer carries', async () => {
  const doc = (await client(stack).get('/openapi.json')).body;
  for (const route of routeTable()) {
    const operation = doc.paths[openApiPath(route.path)][route.method];
    const documented = Object.keys(operation.responses).map(Number);
    expect({ at: route.operationId, missing: problemStatuses(route).filter((status) => !documented.includes(status)) }).toEqual({ at: route.operationId, missing: [] });
    for (const status of documented) {
      const headers = Object.keys(resolve(doc, operation.responses[status]).headers ?? {});
      expect({ at: `${route.operationId} ${status}`, headers }).toEqual({ at: `${route.operationId} ${status}`, headers: expect.arrayContaining(['X-Request-Id', 'RateLimit', 'RateLimit-Policy']) });
      if (status === 429 || status === 503) expect(headers).toContain('Retry-After');
    }
  }
  expect(Object.keys(doc.paths['/signin'].post.responses)).toEqual(expect.arrayContaining(['401', '413', '415']));
  expect(Object.keys(doc.paths['/token/refresh'].post.responses)).toContain('401');
});

test('the documented headers and statuses are what the gateway sends', async () => {
  const api = client(stack);
  const page = await api.get('/listings?limit=1');
  expect(page.headers.get('x-request-id')).toBeTruthy();
  expect(page.headers.get('ratelimit')).toMatch(/^limit=\d+, remaining=\d+, reset=\d+$/);
  expect(page.headers.get('ratelimit-policy')).toMatch(/^\d+;w=\d+$/);
  const wrongCredentials = await api.post('/signin', { email: 'nobody@example.com', password: 'not the password' });
  expect(wrongCredentials.status).toBe(401);
  const notJson = await api.request('POST', '/signin', { rawBody: 'email=a', headers: { 'content-type': 'text/plain' } });
  expect(notJson.status).toBe(415);
  const tooLarge = await api.post('/signin', { email: 'a@example.com', password: 'x'.repeat(200_000) });
  expect(tooLarge.status).toBe(413);
});

test('a query error names the query parameter, not the body', async () => {
  const api = client(stack);
  const badLimit = await api.get('/listings?limit=abc');
  expect(badLimit.status).toBe(400);
  expect(badLimit.body.detail).toBe('The query has invalid fields.');
  expect(badLimit.body.errors.map((e: { field: string }) => e.field)).toEqual(['limit']);
  const unknown = await api.get('/listings?colour=red');
  expect(unknown.status).toBe(400);
  expect(unknown.body.errors).toEqual([{ field: 'colour', message: 'is not a parameter of this route' }]);
});

test('GET /payments and GET /coupons page like every other list', async () => {
  const doc = (await client(stack).get('/openapi.json')).body;
  for (const [p, page] of [['/payments', 'PaymentPage'], ['/coupons', 'CouponPage']] as const) {
    const operation = doc.paths[p].get;
    expect(operation.parameters.filter((param: { in: string }) => param.in === 'query').map((param: { name: string }) => param.name)).toEqual(expect.arrayContaining(['limit', 'offset']));
    expect(operation.responses['200'].content['application/json'].schema).toEqual({ $ref: `#/components/schemas/${page}` });
    expect(doc.components.schemas[page].required).toEqual(['items', 'limit', 'offset', 'total']);
  }
  expect(doc.components.schemas.Listing.properties.createdAt).toMatchObject({ type: 'string', format: 'date-time' });
});

test('redocly lint finds no error in the served document', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'openapi-')), 'openapi.json');
  writeFileSync(file, JSON.stringify((await client(stack).get('/openapi.json')).body));
  const cli = require.resolve('@redocly/cli/bin/cli.js');
  const child = spawn(process.execPath, [cli, 'lint', file, '--format=summary'], {
    // No telemetry and no update check: only the npm registry is reachable where this runs.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect({ code, output }).toEqual({ code: 0, output: expect.any(String) });
}, 60_000);
