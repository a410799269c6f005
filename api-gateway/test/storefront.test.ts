import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';
import { storefrontRouter } from '../src/http/storefront';

/** The router alone, on a folder of our own, with a 404 behind it like the gateway's API. */
async function serve(opts: { dir: string; stripe?: boolean }): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.set('etag', false); // as the gateway has it: the storefront's files must carry ETags all the same
  app.use(storefrontRouter({ dir: opts.dir, stripe: opts.stripe ?? false }));
  app.use((_req, res) => void res.status(404).send('api'));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('the storefront files', () => {
  let dir: string;
  let site: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'storefront-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Market</title>');
    writeFileSync(path.join(dir, 'app.js'), 'export {};');
    site = await serve({ dir });
  });
  afterAll(async () => {
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('GET / is the page, with its own policy, revalidated on every load', async () => {
    const res = await fetch(`${site.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('<title>Market</title>');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('stripe.com');
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    // max-age=0 as a browser's reload sends it (fetch would otherwise add no-cache, which asks for the whole file).
    expect((await fetch(`${site.url}/`, { headers: { 'if-none-match': etag!, 'cache-control': 'max-age=0' } })).status).toBe(304);
  });

  test('the bundle is served; other paths are left to the API', async () => {
    const js = await fetch(`${site.url}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(js.headers.get('etag')).toBeTruthy();
    for (const other of ['/listings', '/missing.js', '/app.js/', '/../package.json', '/.hidden.js']) {
      expect(await (await fetch(`${site.url}${other}`)).text()).toBe('api');
    }
  });

  test("Stripe's origins are allowed only with a publishable key", async () => {
    const withStripe = await serve({ dir, stripe: true });
    try {
      const csp = (await fetch(`${withStripe.url}/`)).headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self' https://js.stripe.com https://*.js.stripe.com;");
      expect(csp).toContain('frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com');
      expect(csp).toContain("connect-src 'self' https://api.stripe.com");
    } finally {
      await withStripe.close();
    }
  });

  test('without a build, GET / is a 503 problem that says how to make one', async () => {
    const empty = await serve({ dir: path.join(dir, 'not-built') });
    try {
      const res = await fetch(`${empty.url}/`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 503, code: 'storefront_not_built', detail: expect.stringContaining('npm run build') });
      expect(await (await fetch(`${empty.url}/listings`)).text()).toBe('api');
    } finally {
      await empty.close();
    }
  });
});

describe('the storefront on the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_MAX: '2' }, services: ['listings'] });
  });
  afterAll(() => stack.stop());

  test('loading the page is not counted by the rate limiter, and the API still answers', async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(`${stack.url}/`);
      // 200 once `npm run build` has made storefront/dist, 503 before: never the limiter's 429.
      expect([200, 503]).toContain(res.status);
      await res.arrayBuffer();
    }
    expect((await client(stack).get('/listings')).status).toBe(200);
  });
});
