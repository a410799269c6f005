import { client } from '../support/http';
import { spawnService, waitForHttp, type ServiceProcess } from '../support/processes';
import { messagesReady } from '../support/queues';
import { eventually } from '../support/wait';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
let listings: ServiceProcess | undefined;

const startListings = async (): Promise<ServiceProcess> => {
  const p = spawnService('listings-service', { ...stack.envFor('listings'), METRICS_PORT: '19201' });
  await waitForHttp('http://127.0.0.1:19201/readyz');
  return p;
};

beforeAll(async () => {
  // listings-service runs as its own process so that it can really be killed.
  stack = await startStack({ services: [], env: { RPC_TIMEOUT_MS: '1500', CACHE_TTL_SECONDS: '0' } });
  listings = await startListings();
});
afterAll(async () => {
  listings?.child.kill('SIGKILL');
  await listings?.exited;
  await stack.stop();
});

test('a service killed mid-request gives a 504 within RPC_TIMEOUT_MS, and the request is not executed after it restarts', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  await api.createListing(seller.accessToken, { title: 'before' });

  // Freeze the service so the request is delivered to it but never answered, then kill it.
  listings!.child.kill('SIGSTOP');
  const started = Date.now();
  const pending = api.post('/listings', { title: 'in flight when killed', priceCents: 100 }, seller.accessToken);
  // Sent, and no longer in the queue: delivered to the frozen process.
  expect(await eventually(async () => stack.gateway.rpc.inFlight === 1 && (await messagesReady(stack, 'rpc.listings.quorum')) === 0)).toBe(true);
  listings!.child.kill('SIGKILL');
  await listings!.exited;
  const res = await pending;
  expect(res.status).toBe(504);
  expect(res.body.code).toBe('upstream_timeout');
  expect(Date.now() - started).toBeLessThan(1500 + 500);

  // The unacknowledged request is redelivered to the new process, which sees its deadline passed.
  listings = await startListings();
  // A read queued behind the redelivered request: once it is answered, that request has been dealt with.
  expect((await api.get('/listings?limit=1')).status).toBe(200);
  const mine = await api.get(`/listings?sellerId=${seller.user.id}`);
  expect(mine.body.items.map((l: { title: string }) => l.title)).toEqual(['before']);
  expect((await api.post('/listings', { title: 'after restart', priceCents: 100 }, seller.accessToken)).status).toBe(201);
});
