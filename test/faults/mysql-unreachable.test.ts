import { client } from '../support/http';
import { eventually } from '../support/wait';
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

const at = async (port: number, path: string): Promise<{ status: number; body: any; text: string }> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
};

test('with MySQL unreachable, requests get 503 problems quickly, every process stays ready and reports its database down, and everything recovers when it returns', async () => {
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
    // Readiness is each process itself: a database every replica shares being down takes none of them
    // out of rotation (the gateway least of all: it still serves what needs no database).
    for (const port of [stack.gateway.port, stack.users.port, stack.services.listings!.opsPort]) expect((await at(port, '/readyz')).status).toBe(200);
    // The outage is reported where it is: by the services that own a database, without its address.
    for (const [port, service] of [[stack.users.port, 'users-service'], [stack.services.listings!.opsPort, 'listings-service']] as const) {
      const report = await at(port, '/health/dependencies');
      expect(report.status).toBe(503);
      expect(report.body).toMatchObject({ status: 'degraded', service, dependencies: { database: { status: 'down', error: expect.any(String) }, broker: { status: 'up' } } });
      expect(report.text).not.toMatch(new RegExp(`127\\.0\\.0\\.1|${proxy.port}|mysql:|root`));
    }
    // The gateway's report is about its own dependencies: users-service itself is up and ready.
    const gatewayReport = await at(stack.gateway.opsPort, '/health/dependencies');
    expect(gatewayReport.status).toBe(200);
    expect(gatewayReport.body.dependencies['users-service'].status).toBe('up');
  } finally {
    proxy.restore();
  }

  expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).status === 200, 10_000, 200)).toBe(true);
  expect((await api.post('/signin', { email: seller.user.email, password: 'correct horse battery' })).status).toBe(200);
  expect((await api.post('/listings', { title: 'After the outage', priceCents: 100 }, seller.accessToken)).status).toBe(201);
  for (const port of [stack.users.port, stack.services.listings!.opsPort]) expect((await at(port, '/health/dependencies')).status).toBe(200);
});
