import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };
let stack: Stack;
let api: ReturnType<typeof client>;
let seller: Session;
let other: Session;

beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  api = client(stack);
  seller = await api.signUp('Seller');
  other = await api.signUp('Other');
});
afterAll(() => stack.stop());

describe('creating a listing', () => {
  test('a signed-in user lists a ticket; it is available at version 1 and belongs to them', async () => {
    const res = await api.post('/listings', { title: '  Opera night  ', description: 'Row 5', priceCents: 4500, currency: 'EUR' }, seller.accessToken);
    expect(res.status).toBe(201);
    expect(res.body.listing).toEqual({
      id: expect.any(String), sellerId: seller.user.id, title: 'Opera night', description: 'Row 5', priceCents: 4500, currency: 'eur',
      status: 'available', version: 1, createdAt: expect.any(String), updatedAt: expect.any(String),
    });
  });

  test('currency defaults to usd and description to empty', async () => {
    const listing = await api.createListing(seller.accessToken, { title: 'Plain' });
    expect(listing).toMatchObject({ currency: 'usd', description: '' });
  });

  test('needs a signed-in user', async () => {
    expect((await api.post('/listings', { title: 'x', priceCents: 100 })).status).toBe(401);
  });

  test.each([
    [{ priceCents: 100 }, ['title']],
    [{ title: '', priceCents: 100 }, ['title']],
    [{ title: 'x'.repeat(201), priceCents: 100 }, ['title']],
    [{ title: 'x', priceCents: 0 }, ['priceCents']],
    [{ title: 'x', priceCents: 12.5 }, ['priceCents']],
    [{ title: 'x', priceCents: 100_000_001 }, ['priceCents']],
    [{ title: 'x', priceCents: '100' }, ['priceCents']],
    [{ title: 'x', priceCents: 100, currency: 'dollars' }, ['currency']],
    [{ title: 'x', priceCents: 100, description: 'd'.repeat(5001) }, ['description']],
    [{ title: 'x', priceCents: 100, status: 'sold' }, ['(body)']],
    [{ title: 'x', priceCents: 100, sellerId: '00000000-0000-4000-8000-000000000001' }, ['(body)']],
    [{}, ['priceCents', 'title']],
  ])('refuses %j naming the bad fields and stores nothing', async (body, fields) => {
    const before = (await api.get(`/listings?sellerId=${seller.user.id}&limit=1`)).body.total;
    const res = await api.post('/listings', body, seller.accessToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(fields);
    expect((await api.get(`/listings?sellerId=${seller.user.id}&limit=1`)).body.total).toBe(before);
  });
});

describe('reading listings', () => {
  test('a listing is read by id; an unknown id is a 404', async () => {
    const listing = await api.createListing(seller.accessToken);
    expect((await api.get(`/listings/${listing.id}`)).body.listing).toEqual(listing);
    expect((await api.get('/listings/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  test('the list pages newest first and filters by seller and status', async () => {
    const mine = await api.signUp();
    const a = await api.createListing(mine.accessToken, { title: 'A' });
    const b = await api.createListing(mine.accessToken, { title: 'B' });
    const page = await api.get(`/listings?sellerId=${mine.user.id}&limit=1&offset=0`);
    expect(page.body).toMatchObject({ limit: 1, offset: 0, total: 2 });
    expect(page.body.items.map((l: { id: string }) => l.id)).toEqual([b.id]);
    const second = await api.get(`/listings?sellerId=${mine.user.id}&limit=1&offset=1`);
    expect(second.body.items.map((l: { id: string }) => l.id)).toEqual([a.id]);
    expect((await api.get(`/listings?sellerId=${mine.user.id}&status=sold`)).body.total).toBe(0);
  });

  test.each(['limit=0', 'limit=101', 'limit=ten', 'offset=-5', 'status=lost', 'sellerId=123', 'color=red'])('refuses ?%s with a 400', async (query) => {
    const res = await api.get(`/listings?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });
});

describe('editing a listing', () => {
  test('the seller edits it and its version goes up', async () => {
    const listing = await api.createListing(seller.accessToken);
    const res = await api.patch(`/listings/${listing.id}`, { title: 'New title', priceCents: 3000 }, seller.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.listing).toMatchObject({ title: 'New title', priceCents: 3000, version: 2 });
    expect((await api.patch(`/listings/${listing.id}`, { description: 'more' }, seller.accessToken)).body.listing.version).toBe(3);
  });

  test('anyone else gets a 403 and the listing is unchanged', async () => {
    const listing = await api.createListing(seller.accessToken);
    const res = await api.patch(`/listings/${listing.id}`, { priceCents: 1 }, other.accessToken);
    expect(res.status).toBe(403);
    expect((await api.get(`/listings/${listing.id}`)).body.listing.priceCents).toBe(listing.priceCents);
    expect((await api.patch(`/listings/${listing.id}`, { priceCents: 1 })).status).toBe(401);
  });

  test('refuses bad or forbidden fields (status, seller, version) with a 400', async () => {
    const listing = await api.createListing(seller.accessToken);
    for (const body of [{}, { status: 'sold' }, { sellerId: other.user.id }, { version: 9 }, { priceCents: -1 }, { title: '' }]) {
      expect((await api.patch(`/listings/${listing.id}`, body, seller.accessToken)).status).toBe(400);
    }
    expect((await api.get(`/listings/${listing.id}`)).body.listing.version).toBe(1);
    expect((await api.patch('/listings/not-a-uuid', { title: 'x' }, seller.accessToken)).status).toBe(400);
    expect((await api.patch('/listings/00000000-0000-4000-8000-000000000000', { title: 'x' }, seller.accessToken)).status).toBe(404);
  });
});

describe("prices in the currency's minor unit, within what Stripe charges", () => {
  test.each([
    [{ priceCents: 50 }, 'usd'],
    [{ priceCents: 99_999_999 }, 'usd'],
    [{ priceCents: 50, currency: 'JPY' }, 'jpy'],
    [{ priceCents: 1010, currency: 'kwd' }, 'kwd'],
  ])('lists %j, in %s', async (body, currency) => {
    const res = await api.post('/listings', { title: 'At the limit', ...body }, seller.accessToken);
    expect(res.status).toBe(201);
    expect(res.body.listing).toMatchObject({ priceCents: body.priceCents, currency });
  });

  test.each([
    [{ priceCents: 49 }, 'must be at least 50 (0.50 usd), the smallest charge Stripe accepts in usd'],
    [{ priceCents: 100_000_000 }, 'must be at most 99999999'],
    [{ priceCents: 49, currency: 'jpy' }, 'must be at least 50 (50 jpy), the smallest charge Stripe accepts in jpy'],
    [{ priceCents: 1005, currency: 'kwd' }, 'must be a multiple of 10: Stripe charges kwd in steps of 0.010 kwd'],
  ])('refuses %j with a 400 naming priceCents, and stores nothing', async (body, message) => {
    const before = (await api.get(`/listings?sellerId=${seller.user.id}&limit=1`)).body.total;
    const res = await api.post('/listings', { title: 'x', ...body }, seller.accessToken);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'priceCents', message: expect.stringContaining(message) }] });
    expect((await api.get(`/listings?sellerId=${seller.user.id}&limit=1`)).body.total).toBe(before);
  });

  test('refuses a currency outside the supported list, naming the field and the list', async () => {
    const res = await api.post('/listings', { title: 'x', priceCents: 2500, currency: 'xyz' }, seller.accessToken);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'currency', message: expect.stringMatching(/^must be one of usd, .*jpy.*kwd/) }] });
  });

  test.each([
    ['usd', 2500, 49, 'must be at least 50 (0.50 usd)', 50],
    ['jpy', 2500, 49, 'must be at least 50 (50 jpy)', 50],
    ['kwd', 2500, 1015, 'must be a multiple of 10', 1020],
  ])("a new price is checked against the listing's currency (%s): 400 invalid_price naming priceCents, the listing unchanged", async (currency, price, bad, message, good) => {
    const listing = await api.createListing(seller.accessToken, { priceCents: price, currency });

    const refused = await api.patch(`/listings/${listing.id}`, { priceCents: bad }, seller.accessToken);

    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'invalid_price', errors: [{ field: 'priceCents', message: expect.stringContaining(message) }] });
    expect((await api.get(`/listings/${listing.id}`)).body.listing).toMatchObject({ priceCents: price, version: 1 });
    const accepted = await api.patch(`/listings/${listing.id}`, { priceCents: good }, seller.accessToken);
    expect(accepted.status).toBe(200);
    expect(accepted.body.listing).toMatchObject({ priceCents: good, currency, version: 2 });
  });

  test('a new price above eight digits is refused at the door, whatever the currency', async () => {
    const listing = await api.createListing(seller.accessToken);
    const res = await api.patch(`/listings/${listing.id}`, { priceCents: 100_000_000 }, seller.accessToken);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'priceCents' }] });
  });
});

describe('deleting a listing', () => {
  test('the seller deletes it', async () => {
    const listing = await api.createListing(seller.accessToken);
    expect((await api.del(`/listings/${listing.id}`, seller.accessToken)).status).toBe(204);
    expect((await api.get(`/listings/${listing.id}`)).status).toBe(404);
    expect((await api.del(`/listings/${listing.id}`, seller.accessToken)).status).toBe(404);
  });

  test('another user cannot; an admin can', async () => {
    const listing = await api.createListing(seller.accessToken);
    expect((await api.del(`/listings/${listing.id}`, other.accessToken)).status).toBe(403);
    expect((await api.del(`/listings/${listing.id}`)).status).toBe(401);
    const admin = (await api.post('/signin', ADMIN)).body;
    expect((await api.del(`/listings/${listing.id}`, admin.accessToken)).status).toBe(204);
  });

  test('a reserved listing cannot be edited or deleted; a sold one neither', async () => {
    const listing = await api.createListing(seller.accessToken);
    const orderId = '00000000-0000-4000-8000-0000000000aa';
    const buyer = { id: other.user.id, role: 'user' as const };
    await (await stack.rpcAs('orders')).call('listings.reserve', { id: listing.id, orderId }, { onBehalfOf: buyer });
    const edit = await api.patch(`/listings/${listing.id}`, { priceCents: 1 }, seller.accessToken);
    expect(edit.status).toBe(409);
    expect(edit.body.code).toBe('listing_reserved');
    expect((await api.del(`/listings/${listing.id}`, seller.accessToken)).body.code).toBe('listing_reserved');
    await (await stack.rpcAs('orders')).call('listings.markSold', { id: listing.id, orderId }, {});
    expect((await api.patch(`/listings/${listing.id}`, { priceCents: 1 }, seller.accessToken)).body.code).toBe('listing_sold');
    expect((await api.del(`/listings/${listing.id}`, seller.accessToken)).body.code).toBe('listing_sold');
  });
});

describe('reservations (the RPC orders-service uses)', () => {
  const orderA = '00000000-0000-4000-8000-00000000000a';
  const orderB = '00000000-0000-4000-8000-00000000000b';

  test('one conditional change: of many parallel reservations exactly one wins', async () => {
    const listing = await api.createListing(seller.accessToken);
    const buyers = await Promise.all([1, 2, 3, 4, 5].map(() => api.signUp()));
    const orders = await stack.rpcAs('orders');
    const results = await Promise.allSettled(
      buyers.map((b, i) => orders.call('listings.reserve', { id: listing.id, orderId: `00000000-0000-4000-8000-00000000010${i}` }, { onBehalfOf: { id: b.user.id, role: 'user' } })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.map((r) => r.reason.code)).toEqual(['listing_reserved', 'listing_reserved', 'listing_reserved', 'listing_reserved']);
    expect(refused[0]!.reason.detail).toBe('This listing is being checked out by someone else, please come back later');
  });

  test('release only frees a listing held by that same order', async () => {
    const listing = await api.createListing(seller.accessToken);
    const orders = await stack.rpcAs('orders');
    await orders.call('listings.reserve', { id: listing.id, orderId: orderA }, { onBehalfOf: { id: other.user.id, role: 'user' } });
    await orders.call('listings.release', { id: listing.id, orderId: orderB }, {});
    expect((await api.get(`/listings/${listing.id}`)).body.listing.status).toBe('reserved');
    const released = await orders.call('listings.release', { id: listing.id, orderId: orderA }, {});
    expect(released.listing?.status).toBe('available');
    // The gateway learns of a change made behind its back from the listing.released event.
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'available', 2000, 20)).toBe(true);
  });

  test('a seller cannot reserve their own listing', async () => {
    const listing = await api.createListing(seller.accessToken);
    await expect((await stack.rpcAs('orders')).call('listings.reserve', { id: listing.id, orderId: orderA }, { onBehalfOf: { id: seller.user.id, role: 'user' } })).rejects.toMatchObject({ status: 403, code: 'own_listing' });
  });
});
