import { connectRaw, type EventEnvelope, type RawChannel as Channel, type RawConnection as ChannelModel } from '@market/common';
import { type EventRecorder, recordEvents } from '../../test/support/events';
import type { Session } from '../../test/support/http';
import { eventually, until } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { type Api, startOrdersStack } from './orders-stack';

const TTL_SECONDS = 2;

let stack: Stack;
let api: Api;
let seller: Session;
let buyer: Session;
let other: Session;
// What an operator would watch: every order event, and (through a channel of the test's own) the expiry queues.
let events: EventRecorder<'order.*'>;
let connection: ChannelModel;
let channel: Channel;
const orderIdOf = (event: EventEnvelope): string | undefined => ('order' in event.payload ? event.payload.order.id : undefined);
const orderEvents = (): { type: string; orderId: string | undefined }[] => events.seen.map((e) => ({ type: e.type, orderId: orderIdOf(e) }));

beforeAll(async () => {
  ({ stack, api, seller, buyer, other } = await startOrdersStack(TTL_SECONDS));
  events = await recordEvents(stack, ['order.*']);
  connection = await connectRaw(stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672');
  channel = await connection.createChannel();
});
afterAll(async () => {
  await events?.stop();
  await connection?.close().catch(() => undefined);
  await stack.stop();
});

const waitQueue = (): string => `${stack.env.BUS_PREFIX}.orders.expiry-wait.${TTL_SECONDS}s.quorum`;
const expiredQueue = (): string => `${stack.env.BUS_PREFIX}.orders.expired.quorum`;
const listingStatus = async (id: string): Promise<string> => (await api.get(`/listings/${id}`)).body.listing.status;
const orderOf = async (id: string, session: Session = buyer) => (await api.get(`/orders/${id}`, session.accessToken)).body.order;
const placeOrder = async (listingId: string, session: Session = buyer) => {
  const res = await api.post('/orders', { listingId }, session.accessToken);
  if (res.status !== 201) throw new Error(`order failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.order as { id: string; expiresAt: string; updatedAt: string };
};
const queuedExpiries = async (): Promise<number> => (await channel.checkQueue(waitQueue())).messageCount + (await channel.checkQueue(expiredQueue())).messageCount;

/**
 * Waits until every order event written so far has been seen: once the expiry consumer has taken every
 * expiry message, a new order's order.created is written after anything it wrote, and the outbox relays
 * in order. The marker order is cancelled at once, and its own expiry message is waited out, so that the
 * next test finds the queues empty.
 */
async function allOrderEventsSeen(): Promise<void> {
  expect(await eventually(async () => (await queuedExpiries()) === 0, (TTL_SECONDS + 3) * 1000)).toBe(true);
  const marker = await placeOrder((await api.createListing(seller.accessToken)).id, other);
  expect(await eventually(() => orderEvents().some((e) => e.orderId === marker.id && e.type === 'order.created'))).toBe(true);
  expect((await api.del(`/orders/${marker.id}`, other.accessToken)).status).toBe(200);
  expect(await eventually(async () => (await queuedExpiries()) === 0, (TTL_SECONDS + 3) * 1000)).toBe(true);
}

test('an unpaid order holds its listing until its TTL, not a moment less; then it expires and the listing is for sale again', async () => {
  const listing = await api.createListing(seller.accessToken);
  const placed = await placeOrder(listing.id);
  const expiresAt = Date.parse(placed.expiresAt);
  // The hold's clock is one message on the wait queue.
  expect((await channel.checkQueue(waitQueue())).messageCount).toBe(1);

  await until(expiresAt, -300);
  expect(await listingStatus(listing.id)).toBe('reserved');
  expect((await orderOf(placed.id)).status).toBe('pending');
  expect((await api.post('/orders', { listingId: listing.id }, other.accessToken)).body.code).toBe('listing_reserved');

  let availableAt = 0;
  const freed = await eventually(async () => {
    const available = (await listingStatus(listing.id)) === 'available';
    if (available) availableAt = Date.now();
    return available;
  }, expiresAt + 2000 - Date.now(), 20);
  expect(freed).toBe(true);
  expect(availableAt).toBeGreaterThanOrEqual(expiresAt);
  expect(availableAt).toBeLessThanOrEqual(expiresAt + 2000);

  const expired = await orderOf(placed.id);
  expect(expired.status).toBe('expired');
  // Both by the database clock: the order changed state at or after the end of its hold.
  expect(Date.parse(expired.updatedAt)).toBeGreaterThanOrEqual(expiresAt);
  expect(await eventually(async () => orderEvents().some((e) => e.orderId === placed.id && e.type === 'order.expired'))).toBe(true);
  expect((await channel.checkQueue(waitQueue())).messageCount).toBe(0);

  const second = await api.post('/orders', { listingId: listing.id }, other.accessToken);
  expect(second.status).toBe(201);
  expect(second.body.order.status).toBe('pending');
});

test('a cancel racing the expiry at the very moment the hold ends leaves exactly one outcome for each order', async () => {
  // Cancels land a little before, at and a little after the end of each hold, to meet the expiry head on.
  const offsetsMs = [-15, -5, 0, 5, 15];
  const listings = await Promise.all(offsetsMs.map(() => api.createListing(seller.accessToken)));
  const orders = await Promise.all(listings.map((l) => placeOrder(l.id)));
  const cancels = await Promise.all(
    orders.map(async (o, i) => {
      await until(o.expiresAt, offsetsMs[i]);
      return api.del(`/orders/${o.id}`, buyer.accessToken);
    }),
  );

  for (const [i, o] of orders.entries()) {
    const cancel = cancels[i]!;
    expect([200, 409]).toContain(cancel.status);
    expect(await eventually(async () => (await orderOf(o.id)).status !== 'pending', 3000)).toBe(true);
    const final = (await orderOf(o.id)).status;
    // The buyer was told the truth: a 200 means it was cancelled, a 409 that the expiry won.
    expect(final).toBe(cancel.status === 200 ? 'cancelled' : 'expired');
    if (cancel.status === 409) expect(cancel.body.code).toBe('order_not_pending');
    expect(await eventually(async () => (await listingStatus(listings[i]!.id)) === 'available', 3000)).toBe(true);
  }
  // Every order ended once: one order.cancelled or one order.expired, never both.
  const settled = (id: string) => orderEvents().filter((e) => e.orderId === id && (e.type === 'order.cancelled' || e.type === 'order.expired'));
  expect(await eventually(async () => orders.every((o) => settled(o.id).length >= 1))).toBe(true);
  await allOrderEventsSeen();
  for (const o of orders) {
    expect(settled(o.id)).toHaveLength(1);
    expect(settled(o.id)[0]!.type).toBe((await orderOf(o.id)).status === 'cancelled' ? 'order.cancelled' : 'order.expired');
  }
});

test('an order whose hold ended while orders-service was down is expired as soon as it is back', async () => {
  const listing = await api.createListing(seller.accessToken);
  const placed = await placeOrder(listing.id);
  await stack.stopService('orders');
  try {
    await until(placed.expiresAt, 500);
    // Nobody ended the hold meanwhile; RabbitMQ has moved the order's message to the expired queue.
    expect(await listingStatus(listing.id)).toBe('reserved');
    expect((await channel.checkQueue(expiredQueue())).messageCount).toBe(1);
  } finally {
    await stack.startService('orders');
  }
  const restartedAt = Date.now();
  expect(await eventually(async () => (await orderOf(placed.id)).status === 'expired', 2000, 20)).toBe(true);
  expect(await eventually(async () => (await listingStatus(listing.id)) === 'available', 2000, 20)).toBe(true);
  expect(Date.now() - restartedAt).toBeLessThan(2500);
  expect(await eventually(async () => (await channel.checkQueue(expiredQueue())).messageCount === 0, 2000)).toBe(true);
});

test('the wait and expired queues are quorum queues, and the wait queue dead-letters at-least-once', async () => {
  // A quorum queue refuses to be redeclared as classic, and this exact set of arguments is accepted only as it was declared.
  await expect(channel.checkQueue(waitQueue())).resolves.toMatchObject({ queue: waitQueue() });
  const probe = await connection.createChannel();
  probe.on('error', () => undefined);
  await expect(
    probe.assertQueue(expiredQueue(), { durable: true, arguments: { 'x-queue-type': 'classic', 'x-dead-letter-exchange': `${stack.env.BUS_PREFIX}.dead-letter` } }),
  ).rejects.toThrow(/PRECONDITION_FAILED.*x-queue-type/);
  const probe2 = await connection.createChannel();
  probe2.on('error', () => undefined);
  await expect(
    probe2.assertQueue(waitQueue(), {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-message-ttl': TTL_SECONDS * 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': expiredQueue(), 'x-dead-letter-strategy': 'at-most-once', 'x-overflow': 'reject-publish' },
    }),
  ).rejects.toThrow(/PRECONDITION_FAILED.*x-dead-letter-strategy/);
});

test('a hold waiting in the classic queues of an earlier release still expires on time after the upgrade', async () => {
  const prefix = stack.env.BUS_PREFIX as string;
  const legacyWait = `${prefix}.orders.expiry-wait.${TTL_SECONDS}s`;
  const legacyExpired = `${prefix}.orders.expired`;
  // The queues as the previous release declared them: classic, the wait queue dead-lettering to the expired one.
  await stack.stopService('orders');
  try {
    await channel.assertQueue(legacyExpired, { durable: true, arguments: { 'x-dead-letter-exchange': `${prefix}.dead-letter` } });
    await channel.assertQueue(legacyWait, { durable: true, arguments: { 'x-message-ttl': TTL_SECONDS * 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': legacyExpired } });
  } finally {
    await stack.startService('orders');
  }
  try {
    const listing = await api.createListing(seller.accessToken);
    const placed = await placeOrder(listing.id);
    // The hold's only clock is now a message the old release left in its classic wait queue: the new
    // release's message is gone, and the sweep (every 60 s) is far away.
    await channel.purgeQueue(waitQueue());
    channel.sendToQueue(legacyWait, Buffer.from(JSON.stringify({ orderId: placed.id })), { persistent: true, contentType: 'application/json', messageId: placed.id });
    await until(placed.expiresAt, -300);
    expect((await orderOf(placed.id)).status).toBe('pending');
    expect(await eventually(async () => (await orderOf(placed.id)).status === 'expired', 3000, 20)).toBe(true);
    // The release reaches listings-service after the expiry's commit.
    expect(await eventually(async () => (await listingStatus(listing.id)) === 'available', 3000, 20)).toBe(true);
    expect((await channel.checkQueue(legacyExpired)).messageCount).toBe(0);
  } finally {
    await channel.deleteQueue(legacyWait);
    await channel.deleteQueue(legacyExpired);
  }
});
