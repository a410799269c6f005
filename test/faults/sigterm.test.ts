import { client } from '../support/http';
import { spawnService, waitForHttp } from '../support/processes';
import { messagesReady } from '../support/queues';
import { eventually, until } from '../support/wait';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { CACHE_TTL_SECONDS: '0' } });
});
afterAll(() => stack.stop());

test('SIGTERM under load: the gateway finishes in-flight requests, closes its connections and exits 0', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createListing(seller.accessToken);
  const gateway = spawnService('api-gateway', { ...stack.envFor('api-gateway'), METRICS_PORT: '0', PORT: '18581', USERS_SERVICE_URL: `http://127.0.0.1:${stack.users.port}` });
  await waitForHttp('http://127.0.0.1:18581/readyz');

  // Park 40 requests in the gateway: listings-service is down, so each waits for its RPC reply.
  await stack.stopService('listings');
  const inFlight = Array.from({ length: 40 }, () => fetch(`http://127.0.0.1:18581/listings/${listing.id}`).then((r) => r.status));
  expect(await eventually(async () => (await messagesReady(stack, 'rpc.listings.quorum')) === 40)).toBe(true);
  gateway.child.kill('SIGTERM');
  // Draining: it has stopped accepting connections, while the 40 still wait for their replies.
  expect(await eventually(() => fetch('http://127.0.0.1:18581/healthz').then(() => false, () => true))).toBe(true);
  // The draining gateway still receives the replies once listings is back.
  await stack.startService('listings');
  const statuses = await Promise.all(inFlight);
  expect(statuses.every((s) => s === 200)).toBe(true);
  expect(await gateway.exited).toBe(0);
  expect(gateway.output()).toMatch(/"message":"shutting down"/);
  // And it really stopped listening.
  await expect(fetch('http://127.0.0.1:18581/healthz')).rejects.toThrow();
});

test('SIGTERM under load: a service stops consuming, answers what it took, and exits 0', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  await stack.stopService('listings');
  const listings = spawnService('listings-service', { ...stack.envFor('listings'), METRICS_PORT: '19202' });
  await waitForHttp('http://127.0.0.1:19202/readyz');

  const creates = Array.from({ length: 30 }, (_, i) => api.post('/listings', { title: `load ${i}`, priceCents: 100 }, seller.accessToken));
  // The signal lands a moment into the load, while the service is taking the requests.
  await until(Date.now(), 20);
  listings.child.kill('SIGTERM');
  expect(await listings.exited).toBe(0);
  const results = await Promise.all(creates);

  // Whatever it took was answered; what it had not taken waits in the queue for the next instance.
  await stack.startService('listings');
  const statuses = results.map((r) => r.status);
  expect(statuses.every((s) => s === 201 || s === 504)).toBe(true);
  const created = results.filter((r) => r.status === 201).map((r) => r.body.listing.id);
  const page = await api.get(`/listings?sellerId=${seller.user.id}&limit=100`);
  // No write answered 201 was lost, and none was applied twice.
  for (const id of created) expect(page.body.items.filter((l: { id: string }) => l.id === id)).toHaveLength(1);
  const titles = page.body.items.map((l: { title: string }) => l.title);
  expect(new Set(titles).size).toBe(titles.length);
});
