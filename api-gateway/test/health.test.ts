/**
 * Readiness is the process itself; each dependency's state is in /health/dependencies. Real servers
 * throughout: "unreachable" is a port nothing listens on, or a TCP proxy that drops its connections,
 * never a stopped shared server.
 */
import net from 'node:net';
import { loadListingsConfig } from '../../listings-service/src/config';
import { startListingsService } from '../../listings-service/src/app';
import { client } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startProxy } from '../../test/support/servers';
import { startStack, type Stack } from '../../test/support/stack';
import { startGateway, type Gateway } from '../src/app';
import { loadGatewayConfig } from '../src/config';

let stack: Stack;
/** Gateways this file starts next to the stack's own (replicas on the same Redis and bus prefix). */
const gateways = new Set<Gateway>();

beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.stop();
  await stack.stop();
});

/** A local port nothing listens on: connecting to it is refused at once. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startReplica(env: Record<string, string> = {}): Promise<Gateway> {
  const gateway = await startGateway(loadGatewayConfig({ ...stack.envFor('api-gateway'), USERS_SERVICE_URL: `http://127.0.0.1:${stack.users.port}`, ...env }), stack.logger);
  gateways.add(gateway);
  return gateway;
}

async function getJson(port: number, path: string, token?: string): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

test('with users-service unreachable a gateway stays ready and serves cached reads; its dependency report says users-service is down', async () => {
  const api = client(stack);
  const seller = await api.signUp('Cached Seller');
  const listing = await api.createSettledListing(seller.accessToken);
  // Read once through the stack's gateway: both answers are now in the cache every replica shares.
  expect((await api.get(`/users/${seller.user.id}`)).headers.get('x-cache')).toBe('MISS');
  expect((await api.get(`/listings/${listing.id}`)).headers.get('x-cache')).toBe('MISS');

  const nowhere = await deadPort();
  const gateway = await startReplica({ USERS_SERVICE_URL: `http://127.0.0.1:${nowhere}` });

  // In the load balancer: it can serve a great deal without users-service.
  const ready = await getJson(gateway.port, '/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ready' });
  const user = await getJson(gateway.port, `/users/${seller.user.id}`);
  expect(user.status).toBe(200);
  expect(user.headers.get('x-cache')).toBe('HIT');
  expect(user.body.user).toMatchObject({ id: seller.user.id, name: 'Cached Seller' });
  const cachedListing = await getJson(gateway.port, `/listings/${listing.id}`);
  expect(cachedListing.status).toBe(200);
  expect(cachedListing.headers.get('x-cache')).toBe('HIT');
  // Listings are served through the broker, and its JWT verification is its own.
  expect((await getJson(gateway.port, `/listings?sellerId=${seller.user.id}`)).body.total).toBe(1);
  const created = await fetch(`http://127.0.0.1:${gateway.port}/listings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${seller.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Listed while users-service is away', priceCents: 100 }),
  });
  expect(created.status).toBe(201);
  // What only users-service can answer is a quick, precise 503, not an ingress error page.
  const me = await getJson(gateway.port, '/users/me', seller.accessToken);
  expect(me.status).toBe(503);
  expect(me.body.code).toBe('service_unavailable');

  // The dependency report, on the ops port only, names what is down and how, but not where.
  const report = await getJson(gateway.opsPort, '/health/dependencies');
  expect(report.status).toBe(503);
  expect(report.body).toMatchObject({
    status: 'degraded',
    service: 'api-gateway',
    dependencies: {
      redis: { status: 'up' },
      broker: { status: 'up' },
      'users-service': { status: 'down', error: 'ECONNREFUSED', latencyMs: expect.any(Number) },
    },
  });
  expect(report.text).not.toContain(String(nowhere));
  expect(report.text).not.toMatch(/127\.0\.0\.1|localhost|http:/);
  expect((await getJson(gateway.port, '/health/dependencies')).status).toBe(404);
  // Liveness never asks anything outside the process.
  expect((await getJson(gateway.port, '/healthz')).status).toBe(200);
});

test('a gateway cut off from every backend at once is unready, and ready again as soon as one comes back', async () => {
  // The broker through a proxy that can drop its connections; Redis and users-service where nothing listens.
  const rabbit = new URL((stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672').split(',')[0] as string);
  const proxy = await startProxy({ host: rabbit.hostname === 'localhost' ? '127.0.0.1' : rabbit.hostname, port: Number(rabbit.port || 5672) });
  let gateway: Gateway | undefined;
  try {
    rabbit.hostname = '127.0.0.1';
    rabbit.port = String(proxy.port);
    const cutOff = await startReplica({
      RABBITMQ_URL: rabbit.toString(),
      REDIS_URL: `redis://127.0.0.1:${await deadPort()}`,
      USERS_SERVICE_URL: `http://127.0.0.1:${await deadPort()}`,
    });
    gateway = cutOff;
    // Redis and users-service down: degraded, still ready (listings, orders and payments go through the broker).
    expect((await getJson(cutOff.port, '/readyz')).status).toBe(200);
    const degraded = await getJson(cutOff.opsPort, '/health/dependencies');
    expect(degraded.status).toBe(503);
    expect(degraded.body.dependencies).toMatchObject({ redis: { status: 'down' }, broker: { status: 'up' }, 'users-service': { status: 'down' } });

    proxy.cut();
    expect(await eventually(async () => (await getJson(cutOff.port, '/readyz')).status === 503, 10_000, 100)).toBe(true);
    expect((await getJson(cutOff.port, '/readyz')).body).toEqual({ status: 'not_ready', reason: 'no_backend_reachable' });
    expect((await getJson(cutOff.opsPort, '/health/dependencies')).body.dependencies.broker).toEqual({ status: 'down', error: 'not connected' });
    expect((await getJson(cutOff.port, '/healthz')).status).toBe(200);

    proxy.restore();
    expect(await eventually(async () => (await getJson(cutOff.port, '/readyz')).status === 200, 20_000, 200)).toBe(true);
  } finally {
    proxy.restore();
    // Stopped here, before the proxy goes: its broker would otherwise keep reconnecting to it.
    if (gateway) {
      gateways.delete(gateway);
      await gateway.stop();
    }
    await proxy.close();
  }
}, 45_000);

test('while shutting down a gateway answers /readyz 503 (and /healthz 200) until its in-flight requests are done', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createSettledListing(seller.accessToken);
  const gateway = await startReplica({ CACHE_TTL_SECONDS: '0' });
  expect((await getJson(gateway.opsPort, '/readyz')).status).toBe(200);

  // A request parked in the gateway: listings-service is away, its RPC waits in the queue.
  await stack.stopService('listings');
  const inFlight = fetch(`http://127.0.0.1:${gateway.port}/listings/${listing.id}`).then((r) => r.status);
  expect(await eventually(() => gateway.rpc.inFlight === 1)).toBe(true);
  const stopped = gateway.stop();
  gateways.delete(gateway);
  try {
    // The public port no longer accepts; the ops port tells the load balancer and monitoring why.
    const ready = await getJson(gateway.opsPort, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'not_ready', reason: 'shutting_down' });
    expect((await getJson(gateway.opsPort, '/healthz')).status).toBe(200);
  } finally {
    await stack.startService('listings');
  }
  expect(await inFlight).toBe(200);
  await stopped;
});

test('an RPC service is ready while its broker connection is up and reports its database and broker; it is unready from the start of its shutdown', async () => {
  const listings = stack.services.listings!;
  const ready = await getJson(listings.opsPort, '/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ready' });
  const report = await getJson(listings.opsPort, '/health/dependencies');
  expect(report.status).toBe(200);
  expect(report.body).toMatchObject({
    status: 'ok',
    service: 'listings-service',
    dependencies: { database: { status: 'up', latencyMs: expect.any(Number) }, broker: { status: 'up' } },
  });

  // A second replica, stopped: readiness drops before anything else is let go.
  const replica = await startListingsService(loadListingsConfig(stack.envFor('listings')), stack.logger);
  expect(await replica.readiness.check()).toEqual({ ready: true });
  const stopping = replica.stop();
  expect(await replica.readiness.check()).toEqual({ ready: false, reason: 'shutting_down' });
  await stopping;
});

test('users-service is ready once started and reports its database and broker on its own (internal) port', async () => {
  const ready = await getJson(stack.users.port, '/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ready' });
  const report = await getJson(stack.users.port, '/health/dependencies');
  expect(report.status).toBe(200);
  expect(report.body).toMatchObject({
    status: 'ok',
    service: 'users-service',
    dependencies: { database: { status: 'up', latencyMs: expect.any(Number) }, broker: { status: 'up' } },
  });
});
