import { client } from '../support/http';
import { eventually } from '../support/wait';
import { ensureAllRunning, startRabbit, stopRabbit } from '../support/servers';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
});
afterAll(async () => {
  await ensureAllRunning();
  await stack.stop();
});

test('after a broker restart the stack recovers by itself: RPC, consumers and cache events', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const before = await api.createListing(seller.accessToken);

  await stopRabbit();
  try {
    const started = Date.now();
    const during = await api.post('/listings', { title: 'During the outage', priceCents: 100 }, seller.accessToken);
    expect(during.status).toBe(503);
    expect(during.body.code).toBe('broker_unavailable');
    expect(Date.now() - started).toBeLessThan(1000);
  } finally {
    await startRabbit();
  }

  // No process was restarted: the connections heal, topology is declared again, consumers resubscribe.
  let created = 1;
  expect(
    await eventually(async () => {
      const res = await api.post('/listings', { title: 'After', priceCents: 100 }, seller.accessToken);
      if (res.status === 201) created++;
      return res.status === 201;
    }, 20_000, 250),
  ).toBe(true);

  // The gateway's event queue was re-declared: a change made behind its back still reaches its cache.
  await api.get(`/listings/${before.id}`);
  const buyer = await api.signUp();
  await (await stack.rpcAs('orders')).call('listings.reserve', { id: before.id, orderId: '00000000-0000-4000-8000-0000000000b1' }, { onBehalfOf: { id: buyer.user.id, role: 'user' } });
  expect(await eventually(async () => (await api.get(`/listings/${before.id}`)).body.listing.status === 'reserved', 5000, 50)).toBe(true);

  // Nothing acknowledged was lost or applied twice: exactly the listings that got a 201.
  expect(created).toBe(2);
  expect((await api.get(`/listings?sellerId=${seller.user.id}`)).body.total).toBe(created);
}, 60_000);
