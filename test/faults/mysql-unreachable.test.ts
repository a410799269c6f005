import { client, eventually } from '../support/http';
import { startProxy } from '../support/servers';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
let proxy: Awaited<ReturnType<typeof startProxy>>;

beforeAll(async () => {
  proxy = await startProxy({ host: '127.0.0.1', port: 3306 });
  stack = await startStack({ services: ['listings'], env: { MYSQL_URL: `mysql://root@127.0.0.1:${proxy.port}`, CACHE_TTL_SECONDS: '0' } });
});
afterAll(async () => {
  proxy.restore();
  await stack.stop();
  await proxy.close();
});

test('with MySQL unreachable, requests get 503 problems quickly, and everything recovers when it returns', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createListing(seller.accessToken);

  proxy.cut();
  try {
    for (const call of [() => api.get(`/listings/${listing.id}`), () => api.post('/signin', { email: seller.user.email, password: 'correct horse battery' })]) {
      const started = Date.now();
      const res = await call();
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('service_unavailable');
      expect(JSON.stringify(res.body)).not.toMatch(/ECONN|mysql|127\.0\.0\.1|KnexTimeout/i);
      expect(Date.now() - started).toBeLessThan(5000);
    }
    const ready = await fetch(`http://127.0.0.1:${stack.users.port}/readyz`);
    expect(ready.status).toBe(503);
  } finally {
    proxy.restore();
  }

  expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).status === 200, 10_000, 200)).toBe(true);
  expect((await api.post('/signin', { email: seller.user.email, password: 'correct horse battery' })).status).toBe(200);
  expect((await api.post('/listings', { title: 'After the outage', priceCents: 100 }, seller.accessToken)).status).toBe(201);
});
