import type { RunningService } from '@market/common';
import type { Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { startOrdersService } from '../src/app';
import { loadOrdersConfig } from '../src/config';
import { type Api, startOrdersStack } from './orders-stack';

const RESERVED_DETAIL = 'This listing is being checked out by someone else, please come back later';
// Long enough that no order here expires while a test looks at it; expiry has its own file.
const TTL_SECONDS = 30;

let stack: Stack;
let api: Api;
let seller: Session;
let buyer: Session;
let other: Session;

beforeAll(async () => {
  ({ stack, api, seller, buyer, other } = await startOrdersStack(TTL_SECONDS));
});
afterAll(() => stack.stop());

const order = async (listingId: string, session: Session = buyer) => api.post('/orders', { listingId }, session.accessToken);
const listingStatus = async (id: string): Promise<string> => (await api.get(`/listings/${id}`)).body.listing.status;
const actorOf = (session: Session) => ({ id: session.user.id, role: 'user' as const });
/** What payments-service does once a charge succeeded. */
const complete = async (orderId: string, session: Session) => (await stack.rpcAs('payments')).call('orders.complete', { id: orderId }, { onBehalfOf: actorOf(session) });

describe('placing an order', () => {
  test('a buyer orders a listing: the order is pending, keeps the listed price and holds it for ORDER_TTL_SECONDS', async () => {
    const listing = await api.createListing(seller.accessToken, { priceCents: 4200, currency: 'EUR' });
    const before = Date.now();
    const res = await order(listing.id);
    expect(res.status).toBe(201);
    expect(res.body.order).toEqual({
      id: expect.any(String), buyerId: buyer.user.id, listingId: listing.id, priceCents: 4200, currency: 'eur',
      status: 'pending', expiresAt: expect.any(String), createdAt: expect.any(String), updatedAt: expect.any(String),
    });
    const { createdAt, expiresAt } = res.body.order;
    expect(Date.parse(expiresAt) - Date.parse(createdAt)).toBe(TTL_SECONDS * 1000);
    expect(Math.abs(Date.parse(createdAt) - before)).toBeLessThan(5000);
    expect((await api.get(`/orders/${res.body.order.id}`, buyer.accessToken)).body.order).toEqual(res.body.order);
  });

  test('of 50 buyers ordering one listing at the same moment exactly one wins; the 49 others are told it is being checked out', async () => {
    const listing = await api.createListing(seller.accessToken);
    const buyers = await Promise.all(Array.from({ length: 50 }, (_, i) => api.signUp(`Buyer ${i}`)));
    const results = await Promise.all(buyers.map((b) => order(listing.id, b)));
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status === 409);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const r of lost) expect(r.body).toMatchObject({ code: 'listing_reserved', detail: RESERVED_DETAIL });
    // Only the winner has an order; the losers have nothing recorded.
    const winner = buyers[results.indexOf(won[0]!)]!;
    const counts = await Promise.all(buyers.map(async (b) => (await api.get('/orders', b.accessToken)).body.total as number));
    expect(counts.filter((n) => n === 1)).toHaveLength(1);
    expect(counts[buyers.indexOf(winner)]).toBe(1);
    expect(await listingStatus(listing.id)).toBe('reserved');
  });

  test('the listing reads as reserved right after the order, even though its available state was cached', async () => {
    const listing = await api.createSettledListing(seller.accessToken);
    await api.get(`/listings/${listing.id}`);
    const cached = await api.get(`/listings/${listing.id}`);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    expect(cached.body.listing.status).toBe('available');
    expect((await order(listing.id)).status).toBe(201);
    expect(await listingStatus(listing.id)).toBe('reserved');
  });

  test('buying your own listing is refused with a 403 and records nothing', async () => {
    const listing = await api.createListing(seller.accessToken);
    const res = await order(listing.id, seller);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('own_listing');
    expect((await api.get('/orders', seller.accessToken)).body.total).toBe(0);
    expect(await listingStatus(listing.id)).toBe('available');
  });

  test('ordering a listing that does not exist is a 404', async () => {
    const res = await order('00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });

  test('a sold listing cannot be ordered: 409 listing_sold', async () => {
    const listing = await api.createListing(seller.accessToken);
    const first = await order(listing.id);
    await complete(first.body.order.id, buyer);
    expect(await listingStatus(listing.id)).toBe('sold');
    const res = await order(listing.id, other);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('listing_sold');
  });

  test('while it is reserved the seller can neither change the price nor delete the listing; once released they can', async () => {
    const listing = await api.createListing(seller.accessToken, { priceCents: 1000 });
    const placed = await order(listing.id);
    const edit = await api.patch(`/listings/${listing.id}`, { priceCents: 1 }, seller.accessToken);
    expect(edit.status).toBe(409);
    expect(edit.body.code).toBe('listing_reserved');
    const del = await api.del(`/listings/${listing.id}`, seller.accessToken);
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('listing_reserved');
    expect((await api.get(`/listings/${listing.id}`)).body.listing.priceCents).toBe(1000);
    expect((await api.get(`/orders/${placed.body.order.id}`, buyer.accessToken)).body.order.priceCents).toBe(1000);
    expect((await api.del(`/orders/${placed.body.order.id}`, buyer.accessToken)).status).toBe(200);
    expect((await api.patch(`/listings/${listing.id}`, { priceCents: 900 }, seller.accessToken)).status).toBe(200);
  });
});

describe('cancelling an order', () => {
  test('the buyer cancels a pending order: 200 cancelled, and the listing is available at once for the next buyer', async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    await api.get(`/listings/${listing.id}`); // cache the reserved state
    const res = await api.del(`/orders/${placed.body.order.id}`, buyer.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.order).toMatchObject({ id: placed.body.order.id, status: 'cancelled', priceCents: listing.priceCents });
    expect(await listingStatus(listing.id)).toBe('available');
    expect((await order(listing.id, other)).status).toBe(201);
  });

  test('someone else cannot cancel an order and is told it does not exist; the order stays pending', async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    const res = await api.del(`/orders/${placed.body.order.id}`, other.accessToken);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    expect((await api.get(`/orders/${placed.body.order.id}`, buyer.accessToken)).body.order.status).toBe('pending');
    expect(await listingStatus(listing.id)).toBe('reserved');
  });

  test('cancelling twice is a 409 order_not_pending that says why', async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    expect((await api.del(`/orders/${placed.body.order.id}`, buyer.accessToken)).status).toBe(200);
    const again = await api.del(`/orders/${placed.body.order.id}`, buyer.accessToken);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('order_not_pending');
    expect(again.body.detail).toMatch(/cancelled/);
  });

  test('a cancel while listings-service is down still cancels, and the sweep releases the listing once it is back', async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    await stack.stopService('listings');
    let replica: RunningService | undefined;
    try {
      const res = await api.del(`/orders/${placed.body.order.id}`, buyer.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.order.status).toBe('cancelled');
      // A second replica whose sweep runs often: its first attempt meets listings-service still down.
      replica = await startOrdersService(loadOrdersConfig(stack.envFor('orders')), stack.logger, { sweepIntervalMs: 200 });
      await stack.startService('listings');
      expect(await eventually(async () => (await listingStatus(listing.id)) === 'available', 8000)).toBe(true);
    } finally {
      if (!stack.services.listings) await stack.startService('listings');
      await replica?.stop();
    }
  });
});

describe('the sweep', () => {
  test('a reservation left behind by a checkout that died before recording its order is released', async () => {
    const listing = await api.createListing(seller.accessToken);
    const orderId = '00000000-0000-4000-8000-00000000dead';
    // What a create request leaves when its process dies between the reservation and the order.
    const db = stack.services.orders!.parts.db;
    await db('reservation_attempts').insert({ order_id: orderId, listing_id: listing.id, created_at: new Date(Date.now() - 10 * 60_000) });
    await (await stack.rpcAs('orders')).call('listings.reserve', { id: listing.id, orderId }, { onBehalfOf: actorOf(buyer) });
    expect(await listingStatus(listing.id)).toBe('reserved');
    const replica = await startOrdersService(loadOrdersConfig(stack.envFor('orders')), stack.logger, { sweepIntervalMs: 200 });
    try {
      expect(await eventually(async () => (await listingStatus(listing.id)) === 'available', 5000)).toBe(true);
      expect(await eventually(async () => (await db('reservation_attempts').where({ order_id: orderId })).length === 0, 2000)).toBe(true);
    } finally {
      await replica.stop();
    }
  });

  test('a fresh reservation attempt (a checkout still in progress) is left alone', async () => {
    const listing = await api.createListing(seller.accessToken);
    const orderId = '00000000-0000-4000-8000-00000000beef';
    const db = stack.services.orders!.parts.db;
    await db('reservation_attempts').insert({ order_id: orderId, listing_id: listing.id, created_at: new Date() });
    await (await stack.rpcAs('orders')).call('listings.reserve', { id: listing.id, orderId }, { onBehalfOf: actorOf(buyer) });
    // Beside it, one left behind long ago: once the sweep has released that one, it has looked at both.
    const abandoned = await api.createListing(seller.accessToken);
    const abandonedOrderId = '00000000-0000-4000-8000-00000000f00d';
    await db('reservation_attempts').insert({ order_id: abandonedOrderId, listing_id: abandoned.id, created_at: new Date(Date.now() - 10 * 60_000) });
    await (await stack.rpcAs('orders')).call('listings.reserve', { id: abandoned.id, orderId: abandonedOrderId }, { onBehalfOf: actorOf(buyer) });
    const replica = await startOrdersService(loadOrdersConfig(stack.envFor('orders')), stack.logger, { sweepIntervalMs: 200 });
    try {
      expect(await eventually(async () => (await db('reservation_attempts').where({ order_id: abandonedOrderId })).length === 0, 5000)).toBe(true);
      expect(await listingStatus(listing.id)).toBe('reserved');
      expect(await db('reservation_attempts').where({ order_id: orderId })).toHaveLength(1);
    } finally {
      await replica.stop();
    }
  });
});

describe('completing an order (the internal call payments-service makes)', () => {
  test('completes a pending order of its buyer and marks the listing sold; paying again is a 409 that says it was paid', async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    const id = placed.body.order.id as string;
    await expect(complete(id, other)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await complete(id, buyer)).order.status).toBe('complete');
    expect(await listingStatus(listing.id)).toBe('sold');
    await expect(complete(id, buyer)).rejects.toMatchObject({ status: 409, code: 'order_not_pending', detail: expect.stringMatching(/paid/) });
    const cancel = await api.del(`/orders/${id}`, buyer.accessToken);
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('order_not_pending');
  });

  test('a cancelled order cannot be paid', async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    await api.del(`/orders/${placed.body.order.id}`, buyer.accessToken);
    await expect(complete(placed.body.order.id, buyer)).rejects.toMatchObject({ status: 409, code: 'order_not_pending', detail: expect.stringMatching(/cancelled/) });
    expect(await listingStatus(listing.id)).toBe('available');
  });
});

describe('orders are private to their buyer', () => {
  test('a buyer lists only their own orders, newest first, paged and filtered by status', async () => {
    const me = await api.signUp('Collector');
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => api.createListing(seller.accessToken)));
    const first = (await order(a.id, me)).body.order;
    const second = (await order(b.id, me)).body.order;
    await order(c.id, other);
    await api.del(`/orders/${first.id}`, me.accessToken);
    const page = await api.get('/orders?limit=1', me.accessToken);
    expect(page.body).toMatchObject({ limit: 1, offset: 0, total: 2 });
    expect(page.body.items.map((o: { id: string }) => o.id)).toEqual([second.id]);
    expect((await api.get('/orders?limit=1&offset=1', me.accessToken)).body.items.map((o: { id: string }) => o.id)).toEqual([first.id]);
    const cancelled = await api.get('/orders?status=cancelled', me.accessToken);
    expect(cancelled.body.items.map((o: { id: string }) => o.id)).toEqual([first.id]);
    expect(cancelled.body.total).toBe(1);
  });

  test("someone else's order is a 404, not a 403", async () => {
    const listing = await api.createListing(seller.accessToken);
    const placed = await order(listing.id);
    const res = await api.get(`/orders/${placed.body.order.id}`, other.accessToken);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    expect((await api.get(`/orders/${placed.body.order.id}`, buyer.accessToken)).status).toBe(200);
    expect((await api.get('/orders/00000000-0000-4000-8000-000000000000', buyer.accessToken)).status).toBe(404);
  });
});

describe('bad requests', () => {
  test.each([
    [{ listingId: 'not-a-uuid' }, ['listingId']],
    [{ listingId: 42 }, ['listingId']],
    [{}, ['listingId']],
    [{ listingId: '00000000-0000-4000-8000-000000000000', priceCents: 1 }, ['(body)']],
    [{ listingId: '00000000-0000-4000-8000-000000000000', buyerId: '00000000-0000-4000-8000-000000000001' }, ['(body)']],
  ])('an order body %j is a 400 naming the bad fields', async (body, fields) => {
    const res = await api.post('/orders', body, buyer.accessToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(fields);
  });

  test.each(['limit=0', 'limit=101', 'limit=ten', 'offset=-1', 'status=lost', 'buyerId=me'])('listing orders with ?%s is a 400', async (query) => {
    const res = await api.get(`/orders?${query}`, buyer.accessToken);
    expect(res.status).toBe(400);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  test('an order id that is not a UUID is a 400', async () => {
    expect((await api.get('/orders/not-a-uuid', buyer.accessToken)).status).toBe(400);
    expect((await api.del('/orders/not-a-uuid', buyer.accessToken)).status).toBe(400);
  });

  test('every order route needs a signed-in user', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const responses = await Promise.all([api.post('/orders', { listingId: id }), api.get('/orders'), api.get(`/orders/${id}`), api.del(`/orders/${id}`)]);
    expect(responses.map((r) => r.status)).toEqual([401, 401, 401, 401]);
  });
});
