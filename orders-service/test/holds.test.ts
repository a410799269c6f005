import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';
import { loadOrdersConfig } from '../src/config';
import { keyEnv } from '../../test/support/keys';

const KEYS = keyEnv('orders');

const MAX_HOLDS = 5;

type Api = ReturnType<typeof client>;
type Listing = { id: string; status: string; version: number };

const listingOf = async (api: Api, id: string): Promise<Listing> => (await api.get(`/listings/${id}`)).body.listing;
const ordersOf = async (api: Api, session: Session, status?: string) =>
  (await api.get(`/orders?limit=100${status ? `&status=${status}` : ''}`, session.accessToken)).body as { items: { id: string; listingId: string; status: string }[]; total: number };

// The stack of the describe block running now: jest finishes one block (its afterAll included) before
// the next block's beforeAll, so the blocks take turns with these.
let stack: Stack;
let api: Api;
let seller: Session;

/** Gives the calling describe block a stack of its own with these hold settings, and a seller. */
function withHolds(holds: { cooldownSeconds: number; ttlSeconds: number }): void {
  beforeAll(async () => {
    stack = await startStack({
      services: ['listings', 'orders'],
      env: { MAX_PENDING_ORDERS_PER_BUYER: String(MAX_HOLDS), REHOLD_COOLDOWN_SECONDS: String(holds.cooldownSeconds), ORDER_TTL_SECONDS: String(holds.ttlSeconds) },
    });
    api = client(stack);
    seller = await api.signUp('Seller');
  });
  afterAll(() => stack.stop());
}

const order = (listingId: string, session: Session) => api.post('/orders', { listingId }, session.accessToken);
const listings = (n: number): Promise<Listing[]> => Promise.all(Array.from({ length: n }, () => api.createListing(seller.accessToken)));

describe('with the default cooldown and a long hold', () => {
  withHolds({ cooldownSeconds: 600, ttlSeconds: 120 });

  test('a buyer holds at most MAX_PENDING_ORDERS_PER_BUYER listings; the next order is a 409 too_many_holds naming the limit and changes nothing', async () => {
    const buyer = await api.signUp('Buyer');
    const [extra, ...held] = await listings(MAX_HOLDS + 1);
    for (const listing of held) expect((await order(listing.id, buyer)).status).toBe(201);

    const refused = await order(extra!.id, buyer);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('too_many_holds');
    expect(refused.body.detail).toContain(`at most ${MAX_HOLDS} listings`);
    expect(await listingOf(api, extra!.id)).toEqual(extra);
    expect((await ordersOf(api, buyer)).total).toBe(MAX_HOLDS);

    // Someone else is not limited by this buyer's holds.
    expect((await order(extra!.id, await api.signUp('Other'))).status).toBe(201);
  });

  test('cancelling one of the held orders makes room for another', async () => {
    const buyer = await api.signUp('Buyer');
    const [extra, ...held] = await listings(MAX_HOLDS + 1);
    const placed = [];
    for (const listing of held) placed.push((await order(listing.id, buyer)).body.order as { id: string });
    expect((await order(extra!.id, buyer)).body.code).toBe('too_many_holds');

    expect((await api.del(`/orders/${placed[0]!.id}`, buyer.accessToken)).status).toBe(200);
    expect((await order(extra!.id, buyer)).status).toBe(201);
    expect((await ordersOf(api, buyer, 'pending')).total).toBe(MAX_HOLDS);
  });

  test('12 orders on 12 listings fired at once by one buyer end with exactly MAX_PENDING_ORDERS_PER_BUYER pending; the other listings stay available', async () => {
    const buyer = await api.signUp('Greedy');
    const wanted = await listings(12);
    const results = await Promise.all(wanted.map((listing) => order(listing.id, buyer)));

    const won = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(won).toHaveLength(MAX_HOLDS);
    expect(refused).toHaveLength(12 - MAX_HOLDS);
    for (const r of refused) expect(r.body).toMatchObject({ status: 409, code: 'too_many_holds' });

    const pending = await ordersOf(api, buyer, 'pending');
    expect(pending.total).toBe(MAX_HOLDS);
    expect((await ordersOf(api, buyer)).total).toBe(MAX_HOLDS);
    const heldIds = new Set(pending.items.map((o) => o.listingId));
    for (const listing of wanted) {
      const now = await listingOf(api, listing.id);
      if (heldIds.has(listing.id)) expect(now.status).toBe('reserved');
      else expect(now).toEqual(listing);
    }
  });

  test('ordering a listing you already hold is a 409 already_holding that names your order; the order and the listing stay as they were', async () => {
    const buyer = await api.signUp('Buyer');
    const [listing] = await listings(1);
    const placed = (await order(listing!.id, buyer)).body.order;
    const reserved = await listingOf(api, listing!.id);

    const again = await order(listing!.id, buyer);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_holding', orderId: placed.id });
    expect(again.body.detail).toContain(placed.id);
    expect(again.body.detail).not.toMatch(/someone else/);

    expect((await api.get(`/orders/${placed.id}`, buyer.accessToken)).body.order).toEqual(placed);
    expect(await listingOf(api, listing!.id)).toEqual(reserved);
    expect((await ordersOf(api, buyer)).total).toBe(1);
  });

  test('the same buyer ordering one listing twice at once gets one order, and the other request names it', async () => {
    const buyer = await api.signUp('Double clicker');
    const [listing] = await listings(1);
    const results = await Promise.all([order(listing!.id, buyer), order(listing!.id, buyer)]);

    const won = results.find((r) => r.status === 201);
    const refused = results.find((r) => r.status === 409);
    expect(won).toBeDefined();
    expect(refused?.body).toMatchObject({ code: 'already_holding', orderId: won!.body.order.id });
    expect((await ordersOf(api, buyer)).total).toBe(1);
  });

  test('after cancelling, the same buyer cannot hold the listing again for REHOLD_COOLDOWN_SECONDS, but anyone else can order it at once', async () => {
    const buyer = await api.signUp('Buyer');
    const other = await api.signUp('Other');
    const [listing] = await listings(1);
    const placed = (await order(listing!.id, buyer)).body.order;
    expect((await api.del(`/orders/${placed.id}`, buyer.accessToken)).status).toBe(200);
    const released = await listingOf(api, listing!.id);
    expect(released.status).toBe('available');

    const again = await order(listing!.id, buyer);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('rehold_cooldown');
    // When they may try again: within the 600 s, and a time they can show.
    const [, seconds, at] = /in (\d+) s \(from ([^)]+)\)/.exec(again.body.detail) ?? [];
    expect(Number(seconds)).toBeGreaterThan(590);
    expect(Number(seconds)).toBeLessThanOrEqual(600);
    expect(Date.parse(at!) - Date.parse(placed.createdAt)).toBeGreaterThanOrEqual(600_000);
    expect(await listingOf(api, listing!.id)).toEqual(released);
    expect((await ordersOf(api, buyer)).total).toBe(1);

    expect((await order(listing!.id, other)).status).toBe(201);
  });

  test('a cooldown is for that listing only: the buyer can hold another listing at once', async () => {
    const buyer = await api.signUp('Buyer');
    const [first, second] = await listings(2);
    const placed = (await order(first!.id, buyer)).body.order;
    await api.del(`/orders/${placed.id}`, buyer.accessToken);
    expect((await order(first!.id, buyer)).body.code).toBe('rehold_cooldown');
    expect((await order(second!.id, buyer)).status).toBe(201);
  });
});

describe('with a short cooldown and a short hold', () => {
  const COOLDOWN_SECONDS = 2;
  withHolds({ cooldownSeconds: COOLDOWN_SECONDS, ttlSeconds: 2 });

  test('the cooldown ends after REHOLD_COOLDOWN_SECONDS, and then the same buyer can hold the listing again', async () => {
    const buyer = await api.signUp('Buyer');
    const listing = await api.createListing(seller.accessToken);
    const placed = (await order(listing.id, buyer)).body.order;
    const cancelled = (await api.del(`/orders/${placed.id}`, buyer.accessToken)).body.order;
    expect((await order(listing.id, buyer)).body.code).toBe('rehold_cooldown');

    let reordered: { createdAt: string } | undefined;
    const allowed = await eventually(async () => {
      const res = await order(listing.id, buyer);
      if (res.status === 201) reordered = res.body.order;
      else expect(res.body.code).toBe('rehold_cooldown');
      return res.status === 201;
    }, 6000, 100);
    expect(allowed).toBe(true);
    // Both by the database clock: not a moment before the cooldown ended.
    expect(Date.parse(reordered!.createdAt) - Date.parse(cancelled.updatedAt)).toBeGreaterThanOrEqual(COOLDOWN_SECONDS * 1000);
  });

  test('an order that expires starts no cooldown: its buyer can order the listing again at once', async () => {
    const buyer = await api.signUp('Buyer');
    const listing = await api.createListing(seller.accessToken);
    const placed = (await order(listing.id, buyer)).body.order;
    const expired = await eventually(async () => (await api.get(`/orders/${placed.id}`, buyer.accessToken)).body.order.status === 'expired', 6000);
    expect(expired).toBe(true);
    expect(await eventually(async () => (await listingOf(api, listing.id)).status === 'available')).toBe(true);

    // Well within COOLDOWN_SECONDS of the expiry: a cooldown started by it would refuse this.
    const again = await order(listing.id, buyer);
    expect(again.status).toBe(201);
    expect(Date.parse(again.body.order.createdAt) - Date.parse(placed.expiresAt)).toBeLessThan(COOLDOWN_SECONDS * 1000);
  });
});

describe('the settings', () => {
  test('default to 5 pending orders per buyer and a 600 s cooldown', () => {
    expect(loadOrdersConfig(KEYS)).toMatchObject({ MAX_PENDING_ORDERS_PER_BUYER: 5, REHOLD_COOLDOWN_SECONDS: 600 });
  });

  test.each([
    ['MAX_PENDING_ORDERS_PER_BUYER', '0'],
    ['MAX_PENDING_ORDERS_PER_BUYER', '1001'],
    ['MAX_PENDING_ORDERS_PER_BUYER', 'many'],
    ['REHOLD_COOLDOWN_SECONDS', '-1'],
    ['REHOLD_COOLDOWN_SECONDS', '1.5'],
  ])('%s=%s stops the service at start with a message naming it', (name, value) => {
    expect(() => loadOrdersConfig({ ...KEYS, [name]: value })).toThrow(name);
  });
});
