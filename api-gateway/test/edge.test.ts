import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { keyIdOf } from '@market/common';
import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
});
afterAll(() => stack.stop());

const expectProblem = (res: { status: number; headers: Headers; body: any }, status: number, code: string): void => {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String), type: `urn:market:problem:${code}` });
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|SELECT|ECONN|127\.0\.0\.1/);
};

test('an unknown route is a 404 problem', async () => {
  expectProblem(await client(stack).get('/nowhere'), 404, 'route_not_found');
});

test('malformed JSON is a 400 problem', async () => {
  const api = client(stack);
  const { accessToken } = await api.signUp();
  expectProblem(await api.request('POST', '/listings', { token: accessToken, rawBody: '{"title": "x",' }), 400, 'malformed_json');
});

test('a body over 100 kB is a 413 problem', async () => {
  const api = client(stack);
  const { accessToken } = await api.signUp();
  expectProblem(await api.post('/listings', { title: 'x', priceCents: 1, description: 'a'.repeat(110_000) }, accessToken), 413, 'payload_too_large');
});

test('a malformed id in the path is a 400 problem naming the field', async () => {
  const res = await client(stack).get('/listings/not-a-uuid');
  expectProblem(res, 400, 'validation_failed');
  expect(res.body.errors).toEqual([{ field: 'id', message: expect.any(String) }]);
});

test('a client request id is echoed and one is generated when absent', async () => {
  const api = client(stack);
  expect((await api.get('/healthz', undefined, { 'x-request-id': 'my-trace-123' })).headers.get('x-request-id')).toBe('my-trace-123');
  expect((await api.get('/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  // Something that could smuggle into logs is replaced, not echoed.
  expect((await api.get('/healthz', undefined, { 'x-request-id': 'bad id\twith tab' })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

test('identity headers a client sets are ignored', async () => {
  const api = client(stack);
  const res = await api.post('/listings', { title: 'x', priceCents: 100 }, undefined, { 'x-user-id': '00000000-0000-4000-8000-000000000001', 'x-actor-role': 'admin' });
  expectProblem(res, 401, 'unauthorized');
});

describe('access tokens', () => {
  const sub = '00000000-0000-4000-8000-000000000001';
  // The stack's real signing key: these tokens fail for what they say, not for who signed them.
  const signingKey = () => createPrivateKey({ key: Buffer.from(stack.keys.jwtPrivateKey, 'base64'), format: 'der', type: 'pkcs8' });
  const realSign = (claims: object, options: jwt.SignOptions): string =>
    jwt.sign(claims, signingKey(), { algorithm: 'ES256', keyid: keyIdOf(createPublicKey(signingKey())), ...options });

  test('a token with alg "none" is refused', async () => {
    const token = jwt.sign({ role: 'admin', sub, iss: 'market-users', aud: 'market' }, '', { algorithm: 'none' });
    expectProblem(await client(stack).get('/users/me', token), 401, 'invalid_token');
  });

  test('a token signed with another secret is refused', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // Same kid as the real key, so only the signature can give it away.
    const token = jwt.sign({ role: 'admin', ver: 0 }, privateKey, { algorithm: 'ES256', keyid: keyIdOf(createPublicKey(signingKey())), subject: sub, issuer: 'market-users', audience: 'market', expiresIn: 60 });
    expectProblem(await client(stack).get('/users/me', token), 401, 'invalid_token');
  });

  test('a token for another audience is refused', async () => {
    const token = realSign({ role: 'user', ver: 0 }, { subject: sub, issuer: 'market-users', audience: 'someone-else', expiresIn: 60 });
    expectProblem(await client(stack).get('/users/me', token), 401, 'invalid_token');
  });

  test('a token without an expiry is refused, even when properly signed', async () => {
    const token = realSign({ role: 'user', ver: 0 }, { subject: sub, issuer: 'market-users', audience: 'market' });
    expectProblem(await client(stack).get('/listings', token), 401, 'invalid_token');
  });

  test('an expired token is refused as expired', async () => {
    const token = realSign({ role: 'user', ver: 0, exp: Math.floor(Date.now() / 1000) - 10 }, { subject: sub, issuer: 'market-users', audience: 'market' });
    expectProblem(await client(stack).get('/users/me', token), 401, 'token_expired');
  });

  test('a bad token is refused even on a public route', async () => {
    expectProblem(await client(stack).get('/listings', 'garbage.token.here'), 401, 'invalid_token');
  });
});

test('API responses forbid rendering anything; the docs page allows only its own assets', async () => {
  const api = client(stack);
  expect((await api.get('/listings')).headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
  const docs = await fetch(`${stack.url}/docs`);
  expect(docs.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self';/);
});

test('liveness and readiness answer on the public port without naming what is behind it; the dependency report is on the ops port only', async () => {
  const api = client(stack);
  const live = await api.get('/healthz');
  expect(live.status).toBe(200);
  expect(live.body).toEqual({ status: 'ok' });
  const ready = await api.get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ready' });
  expect(ready.headers.get('cache-control')).toBe('no-store');
  expectProblem(await api.get('/health/dependencies'), 404, 'route_not_found');

  const report = await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/health/dependencies`);
  expect(report.status).toBe(200);
  expect(await report.json()).toEqual({
    status: 'ok',
    service: 'api-gateway',
    checkedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    dependencies: {
      redis: { status: 'up', latencyMs: expect.any(Number) },
      broker: { status: 'up' },
      'users-service': { status: 'up', latencyMs: expect.any(Number) },
    },
  });
  expect((await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/readyz`)).status).toBe(200);
});

test('metrics are exposed in the Prometheus format with route templates, on the internal port only', async () => {
  const api = client(stack);
  await api.get('/listings');
  expect((await fetch(`${stack.url}/metrics`)).status).toBe(404);
  const res = await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/metrics`);
  const text = await res.text();
  expect(res.headers.get('content-type')).toContain('text/plain');
  expect(text).toMatch(/market_http_request_duration_seconds_count\{service="api-gateway",method="GET",route="\/listings",status="200"\}/);
  expect(text).toMatch(/market_rpc_client_duration_seconds_count\{method="listings.list",outcome="ok"\}/);
});
