import { openApiPath } from '../src/openapi';
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

test('the document is OpenAPI 3.1 and describes problems and bearer auth', async () => {
  const doc = (await client(stack).get('/openapi.json')).body;
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  const create = doc.paths['/listings'].post;
  expect(create.requestBody.content['application/json'].schema.properties.priceCents).toMatchObject({ type: 'integer', minimum: 1, maximum: 99999999 });
  expect(create.responses['400'].content['application/problem+json']).toBeDefined();
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
