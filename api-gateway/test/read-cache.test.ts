import { randomUUID } from 'node:crypto';
import { rpcHandled } from '@market/common';
import { FINAL_VERSION, ReadCache } from '../src/http/read-cache';
import { client } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
});
afterAll(() => stack.stop());

const handled = async (method: string): Promise<number> =>
  (await rpcHandled.get()).values.filter((v) => v.labels.method === method && v.labels.outcome === 'ok').reduce((n, v) => n + v.value, 0);

test('the second read of a listing is a cache hit', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createSettledListing(seller.accessToken);
  const first = await api.get(`/listings/${listing.id}`);
  const second = await api.get(`/listings/${listing.id}`);
  expect(first.headers.get('x-cache')).toBe('MISS');
  expect(second.headers.get('x-cache')).toBe('HIT');
  expect(second.body).toEqual(first.body);
});

test('an edit through the gateway is visible on the very next read', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createSettledListing(seller.accessToken);
  await api.get(`/listings/${listing.id}`);
  await api.get('/listings?limit=100');
  expect((await api.get(`/listings/${listing.id}`)).headers.get('x-cache')).toBe('HIT');
  expect((await api.patch(`/listings/${listing.id}`, { priceCents: 999 }, seller.accessToken)).status).toBe(200);
  const after = await api.get(`/listings/${listing.id}`);
  expect(after.headers.get('x-cache')).toBe('MISS');
  expect(after.body.listing.priceCents).toBe(999);
  const page = await api.get('/listings?limit=100');
  expect(page.body.items.find((l: { id: string }) => l.id === listing.id).priceCents).toBe(999);
});

test('a change made by another service reaches the cache through its event', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createSettledListing(seller.accessToken);
  await api.get(`/listings/${listing.id}`);
  expect((await api.get(`/listings/${listing.id}`)).headers.get('x-cache')).toBe('HIT');
  // As orders-service would: reserve it over RPC, without going through the gateway.
  const buyer = await api.signUp();
  await (await stack.rpcAs('orders')).call('listings.reserve', { id: listing.id, orderId: '00000000-0000-4000-8000-000000000001' }, { onBehalfOf: { id: buyer.user.id, role: 'user' } });
  const seen = await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'reserved', 2000, 20);
  expect(seen).toBe(true);
});

test('concurrent misses for one key make one backend call', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createSettledListing(seller.accessToken);
  const before = await handled('listings.get');
  const reads = await Promise.all(Array.from({ length: 20 }, () => api.get(`/listings/${listing.id}`)));
  expect(reads.every((r) => r.status === 200 && r.body.listing.id === listing.id)).toBe(true);
  expect((await handled('listings.get')) - before).toBe(1);
});

test('a user profile is cached per kind of viewer, so the email never leaks from the cache', async () => {
  const api = client(stack);
  const alice = await api.signUp('Alice');
  const own = await api.get(`/users/${alice.user.id}`, alice.accessToken);
  expect(own.body.user.email).toBe(alice.user.email);
  const anonymous = await api.get(`/users/${alice.user.id}`);
  expect(anonymous.headers.get('x-cache')).toBe('MISS');
  expect(anonymous.body.user.email).toBeUndefined();
  expect((await api.get(`/users/${alice.user.id}`)).headers.get('x-cache')).toBe('HIT');
  expect((await api.patch(`/users/${alice.user.id}`, { name: 'Alice B.' }, alice.accessToken)).status).toBe(200);
  expect((await api.get(`/users/${alice.user.id}`)).body.user.name).toBe('Alice B.');
});

test('an unknown listing is a 404 and is not cached', async () => {
  const api = client(stack);
  const id = '00000000-0000-4000-8000-00000000dead';
  const first = await api.get(`/listings/${id}`);
  expect(first.status).toBe(404);
  expect(first.body.code).toBe('not_found');
  expect((await api.get(`/listings/${id}`)).headers.get('x-cache')).not.toBe('HIT');
});

test('a change made through the gateway moves the cache once, whether the route or the change\'s event forgets it first', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const { genOf } = cacheOfStack();
  const edited = await api.createSettledListing(seller.accessToken);
  const marker = await api.createSettledListing(seller.accessToken);
  const before = Number(await genOf(`listing:${edited.id}`));
  expect((await api.patch(`/listings/${edited.id}`, { priceCents: 777 }, seller.accessToken)).status).toBe(200);
  // A later change of another listing, made without the gateway: once its event has been applied, so has the edit's.
  await api.get(`/listings/${marker.id}`);
  const buyer = await api.signUp();
  await (await stack.rpcAs('orders')).call('listings.reserve', { id: marker.id, orderId: '00000000-0000-4000-8000-000000000002' }, { onBehalfOf: { id: buyer.user.id, role: 'user' } });
  expect(await eventually(async () => (await api.get(`/listings/${marker.id}`)).body.listing.status === 'reserved', 5000, 20)).toBe(true);
  // The route and the event each forget the edit: whichever came second moved nothing.
  expect(Number(await genOf(`listing:${edited.id}`)) - before).toBe(1);
  expect((await api.get(`/listings/${edited.id}`)).headers.get('x-cache')).toBe('MISS');
  const again = await api.get(`/listings/${edited.id}`);
  expect(again.headers.get('x-cache')).toBe('HIT');
  expect(again.body.listing.priceCents).toBe(777);
});

test('each version of a resource moves its cache generation once, and a deletion is final', async () => {
  const { cache, genOf } = cacheOfStack();
  const resource = `listing:${randomUUID()}`;
  expect(await cache.forget(resource, 2)).toBe(true);
  expect(await cache.forget(resource, 2)).toBe(false);
  expect(await cache.forget(resource, 1)).toBe(false);
  // Another replica learns it from Redis.
  expect(await cacheOfStack().cache.forget(resource, 2)).toBe(false);
  expect(await genOf(resource)).toBe('1');
  expect(await cache.forget(resource, 3)).toBe(true);
  // Without a version (a checkout's answer does not carry the listing's): always forgotten.
  expect(await cache.forget(resource)).toBe(true);
  expect(await cache.forget(resource, FINAL_VERSION)).toBe(true);
  expect(await cache.forget(resource, 4)).toBe(false);
  expect(await genOf(resource)).toBe('4');
});

function cacheOfStack(): { cache: ReadCache; genOf: (resource: string) => Promise<string | null> } {
  // The gateway's own keys: the same prefix.
  const cache = new ReadCache(stack.gateway.redis, `${stack.env.BUS_PREFIX}`, 60);
  return { cache, genOf: (resource) => stack.gateway.redis.get(cache.genKey(resource)) };
}
