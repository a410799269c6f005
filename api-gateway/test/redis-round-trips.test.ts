import { client, type Session } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

/**
 * The edge's Redis budget: every request costs the gateway one round trip (the rate-limit count, the
 * token's revocation state and, for a cacheable read, the cache lookup, in one pipeline). Counted on
 * the gateway's own connection: every write to its socket is a batch of commands sent together.
 */
let stack: Stack;
let writes = 0;
let api: ReturnType<typeof client>;
let seller: Session;

beforeAll(async () => {
  stack = await startStack({ services: ['listings', 'orders'] });
  const stream = (stack.gateway.redis as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
  const write = stream.write.bind(stream);
  stream.write = (...args: unknown[]) => {
    writes += 1;
    return write(...args);
  };
  api = client(stack);
  seller = await api.signUp();
});
afterAll(() => stack.stop());

/** The round trips the gateway made to Redis while answering `request`. */
async function roundTrips<T>(request: () => Promise<T>): Promise<{ trips: number; answer: T }> {
  const before = writes;
  const answer = await request();
  return { trips: writes - before, answer };
}

test('a cached read answered from the cache: one round trip for the count and the entry together', async () => {
  const listing = await api.createSettledListing(seller.accessToken);
  expect((await api.get(`/listings/${listing.id}`)).headers.get('x-cache')).toBe('MISS');
  const anonymous = await roundTrips(() => api.get(`/listings/${listing.id}`));
  expect(anonymous.answer.headers.get('x-cache')).toBe('HIT');
  expect(anonymous.trips).toBe(1);
  // Signed in: the token's revocation state rides along too.
  const signedIn = await roundTrips(() => api.get(`/listings/${listing.id}`, seller.accessToken));
  expect(signedIn.answer.headers.get('x-cache')).toBe('HIT');
  expect(signedIn.trips).toBe(1);
  const page = await roundTrips(() => api.get('/listings?limit=5'));
  expect((await roundTrips(() => api.get('/listings?limit=5'))).trips).toBe(1);
  expect(page.answer.status).toBe(200);
});

test('a cached profile, per kind of viewer: one round trip', async () => {
  await api.get(`/users/${seller.user.id}`, seller.accessToken);
  const own = await roundTrips(() => api.get(`/users/${seller.user.id}`, seller.accessToken));
  expect(own.answer.headers.get('x-cache')).toBe('HIT');
  expect(own.answer.body.user.email).toBe(seller.user.email);
  expect(own.trips).toBe(1);
});

test('a signed-in request that is not cached: one round trip for the count and the revocation state', async () => {
  const orders = await roundTrips(() => api.get('/orders', seller.accessToken));
  expect(orders.answer.status).toBe(200);
  expect(orders.trips).toBe(1);
  const me = await roundTrips(() => api.get('/users/me', seller.accessToken));
  expect(me.answer.status).toBe(200);
  expect(me.trips).toBe(1);
});

test('a miss: the lookup rides with the count, and the entry is stored once the answer is known', async () => {
  const listing = await api.createSettledListing(seller.accessToken);
  const miss = await roundTrips(() => api.get(`/listings/${listing.id}`));
  expect(miss.answer.headers.get('x-cache')).toBe('MISS');
  // The store is the one write a miss adds (written after the backend answered, not waited for).
  expect(miss.trips).toBeLessThanOrEqual(2);
  expect((await roundTrips(() => api.get(`/listings/${listing.id}`))).trips).toBe(1);
});

test('input the route refuses plans no lookup and is still counted: one round trip, then the 400', async () => {
  const bad = await roundTrips(() => api.get('/listings/not-a-uuid'));
  expect(bad.answer.status).toBe(400);
  expect(bad.trips).toBe(1);
});
