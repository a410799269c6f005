import { client, type Session } from '../support/http';
import { eventually, until } from '../support/wait';
import { ensureAllRunning, startRabbit, stopRabbit } from '../support/servers';
import { startStack, type Stack } from '../support/stack';

const HOLD_SECONDS = 3;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    services: ['listings', 'orders'],
    env: { ORDER_TTL_SECONDS: String(HOLD_SECONDS), WAITLIST_HOLD_SECONDS: String(HOLD_SECONDS), RPC_TIMEOUT_MS: '2000' },
  });
});
afterAll(async () => {
  await ensureAllRunning();
  await stack.stop();
});

interface OrderRow {
  id: string;
  buyer_id: string;
  status: string;
  created_at: Date;
  expires_at: Date;
}

test('RabbitMQ restarted as a hold ends: the line is served in order, each place once, and nobody else gets the listing meanwhile', async () => {
  const api = client(stack);
  const seller = await api.signUp('Seller');
  const [first, ...line] = await Promise.all(['First', 'Second', 'Third', 'Fourth'].map((name) => api.signUp(name))) as [Session, ...Session[]];
  const bystander = await api.signUp('Bystander');
  const listing = await api.createListing(seller.accessToken);
  const held = await api.post('/orders', { listingId: listing.id }, first.accessToken);
  expect(held.status).toBe(201);
  for (const person of line) expect((await api.post(`/listings/${listing.id}/waitlist`, undefined, person.accessToken)).status).toBe(201);

  // Someone who is not in line keeps trying to buy the whole time.
  let trying = true;
  const bystanderWins: string[] = [];
  const bystanderLoop = (async () => {
    while (trying) {
      const res = await api.post('/orders', { listingId: listing.id }, bystander.accessToken).catch(() => undefined);
      if (res?.status === 201) bystanderWins.push(res.body.order.id as string);
      await until(Date.now(), 100);
    }
  })();

  // The broker goes away just before the first hold ends and comes back after it: the expiry message
  // waits in its queue, the hand-over's RPC cannot run, and the sweep after the reconnect is the backstop.
  await until(held.body.order.expiresAt as string, -300);
  await stopRabbit();
  try {
    // The outage itself: the broker stays away past the end of the hold.
    await until(Date.now(), 2500);
  } finally {
    await startRabbit();
  }

  const db = stack.services.orders!.parts.db;
  const ordersOf = async (): Promise<OrderRow[]> => (await db('orders').where({ listing_id: listing.id }).orderBy('created_at')) as OrderRow[];
  const last = line[line.length - 1]!;
  const servedAll = await eventually(async () => (await ordersOf()).some((o) => o.buyer_id === last.user.id), 40_000, 200);
  trying = false;
  await bystanderLoop;
  expect(servedAll).toBe(true);

  const orders = await ordersOf();
  // Exactly one order each, in join order, after the first buyer's; each hold began only after the one before ended.
  expect(orders.map((o) => o.buyer_id)).toEqual([first.user.id, ...line.map((p) => p.user.id)]);
  for (let i = 1; i < orders.length; i++) {
    expect(new Date(orders[i]!.created_at).getTime()).toBeGreaterThanOrEqual(new Date(orders[i - 1]!.expires_at).getTime() - 50);
  }
  expect(orders.slice(0, -1).every((o) => o.status === 'expired')).toBe(true);
  expect(orders[orders.length - 1]!.status).toBe('pending');
  expect(bystanderWins).toEqual([]);
  // The listing is held by the last person in line, never released to the public in between.
  expect((await api.get(`/listings/${listing.id}`)).body.listing.status).toBe('reserved');
  expect((await api.get('/waitlist', last.accessToken)).body.items).toEqual([]);
});
