import { ipKeyGenerator } from 'express-rate-limit';
import { clientAddressKey } from '../src/http/rate-limit';
import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '10000', TRUST_PROXY: '1', WEBHOOK_RATE_LIMIT_MAX: '8' } });
});
afterAll(() => stack.stop());

const from = (address: string) => ({ 'x-forwarded-for': address });

test('the sixth request in the window is refused with a 429 problem and Retry-After', async () => {
  const api = client(stack);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await api.get('/listings', undefined, from('203.0.113.1'))).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200]);
  const sixth = await api.get('/listings', undefined, from('203.0.113.1'));
  expect(sixth.status).toBe(429);
  expect(sixth.headers.get('content-type')).toContain('application/problem+json');
  expect(sixth.body.code).toBe('rate_limited');
  expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(sixth.headers.get('retry-after'))).toBeLessThanOrEqual(10);
  expect(sixth.headers.get('ratelimit')).toMatch(/limit=5, remaining=0, reset=\d+/);
  expect(sixth.headers.get('ratelimit-policy')).toBe('5;w=10');
});

test('another client is not affected by one client using up its limit', async () => {
  const api = client(stack);
  for (let i = 0; i < 6; i++) await api.get('/listings', undefined, from('203.0.113.2'));
  expect((await api.get('/listings', undefined, from('203.0.113.2'))).status).toBe(429);
  expect((await api.get('/listings', undefined, from('203.0.113.3'))).status).toBe(200);
});

test('a burst of 30 parallel requests lets exactly 5 through', async () => {
  const api = client(stack);
  const results = await Promise.all(Array.from({ length: 30 }, () => api.get('/listings', undefined, from('203.0.113.4'))));
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(5);
  expect(statuses.filter((s) => s === 429)).toHaveLength(25);
});

test('a signed-in user is counted by user id, whatever address they come from', async () => {
  const api = client(stack);
  const me = await api.signUp();
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await api.get('/users/me', me.accessToken, from(`198.51.100.${i}`))).status);
  expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
  expect(statuses[5]).toBe(429);
});

test('health and readiness are never rate limited', async () => {
  const api = client(stack);
  const results = await Promise.all(Array.from({ length: 12 }, () => api.get('/healthz', undefined, from('203.0.113.5'))));
  expect(results.every((r) => r.status === 200)).toBe(true);
  expect((await api.get('/readyz', undefined, from('203.0.113.5'))).status).toBe(200);
});

test('the count is shared through Redis by every gateway replica', async () => {
  const api = client(stack);
  for (let i = 0; i < 5; i++) await api.get('/listings', undefined, from('203.0.113.6'));
  const keys = await stack.gateway.redis.keys(`${stack.env.BUS_PREFIX}:rl:*203.0.113.6*`);
  expect(keys).toHaveLength(1);
  expect(Number(await stack.gateway.redis.get(keys[0]!))).toBe(5);
});

test('the address key is the one ipKeyGenerator makes, without parsing every IPv4 address', () => {
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '203.0.113.9', '::ffff:203.0.113.9', '2001:db8::1', '2001:db8:0:ff::7', '::1']) {
    expect(clientAddressKey(ip)).toBe(ipKeyGenerator(ip));
  }
});

test("Stripe's webhooks are not one client's requests: past the per-client limit they still arrive, up to their own bound for all senders", async () => {
  const api = client(stack);
  const webhook = (address: string) => api.request('POST', '/webhooks/stripe', { rawBody: '{"id":"evt_1","object":"event"}', headers: from(address) });
  // Unsigned, so each is refused at the door (400) — but refused, not rate limited.
  const fromOne = [];
  for (let i = 0; i < 6; i++) fromOne.push((await webhook('203.0.113.50')).status);
  const fromAnother = [await webhook('203.0.113.51'), await webhook('203.0.113.52')].map((r) => r.status);
  const beyond = await webhook('203.0.113.53');

  expect(fromOne).toEqual([400, 400, 400, 400, 400, 400]);
  expect(fromAnother).toEqual([400, 400]);
  expect(beyond.status).toBe(429);
  expect(beyond.headers.get('ratelimit-policy')).toBe('8;w=10');
  // The webhook bound and the per-client count are separate: that first address still has its 5.
  expect((await api.get('/listings', undefined, from('203.0.113.50'))).status).toBe(200);
});
