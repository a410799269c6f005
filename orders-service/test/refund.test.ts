import { randomUUID } from 'node:crypto';
import { eventFacts, type RunningService, connectRaw, type RawConnection as ChannelModel, type RawConfirmChannel as ConfirmChannel } from '@market/common';
import { type EventRecorder, recordEvents } from '../../test/support/events';
import type { Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { startOrdersService } from '../src/app';
import { loadOrdersConfig } from '../src/config';
import { type Api, startOrdersStack } from './orders-stack';

// Short, so that an order can be seen expired; every other order here is paid or looked at at once.
const TTL_SECONDS = 3;

interface PlacedOrder {
  id: string;
  listingId: string;
  priceCents: number;
  currency: string;
  expiresAt: string;
}

let stack: Stack;
let api: Api;
let seller: Session;
let buyer: Session;
let other: Session;
// Every order event, as another service sees them; and a channel that publishes as payments-service would.
let events: EventRecorder<'order.*'>;
let connection: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  ({ stack, api, seller, buyer, other } = await startOrdersStack(TTL_SECONDS));
  events = await recordEvents(stack, ['order.*']);
  connection = await connectRaw(stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672');
  channel = await connection.createConfirmChannel();
});
afterAll(async () => {
  try {
    await events?.stop();
    // The stack removes the queues it knows by name; this one is new with the refunds.
    await channel?.deleteQueue(paymentRefundedQueue()).catch(() => undefined);
    await connection?.close().catch(() => undefined);
  } finally {
    await stack.stop();
  }
});

const paymentRefundedQueue = (): string => `${stack.env.BUS_PREFIX}.orders.payment-refunded.quorum`;
const deadLetterQueue = (): string => `${stack.env.BUS_PREFIX}.dead-letter.quorum`;
const actorOf = (session: Session) => ({ id: session.user.id, role: 'user' as const });
const listingStatus = async (id: string): Promise<string> => (await api.get(`/listings/${id}`)).body.listing.status;
const orderOf = async (id: string, session: Session = buyer) => (await api.get(`/orders/${id}`, session.accessToken)).body.order;
const refundedEventsOf = (orderId: string) => events.ofType('order.refunded').filter((e) => e.payload.order.id === orderId);

async function placeOrder(session: Session = buyer): Promise<PlacedOrder> {
  const listing = await api.createListing(seller.accessToken, { priceCents: 1800, currency: 'EUR' });
  const res = await api.post('/orders', { listingId: listing.id }, session.accessToken);
  if (res.status !== 201) throw new Error(`order failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.order as PlacedOrder;
}

/** What payments-service does once a charge succeeded. */
const complete = async (orderId: string, session: Session = buyer) =>
  (await stack.rpcAs('payments')).call('orders.complete', { id: orderId }, { onBehalfOf: actorOf(session) });
/** What payments-service does once the payment of a complete order was refunded. */
const refund = async (orderId: string, session: Session = buyer) =>
  (await stack.rpcAs('payments')).call('orders.refund', { id: orderId }, { onBehalfOf: actorOf(session) });

async function paidOrder(): Promise<PlacedOrder> {
  const placed = await placeOrder();
  expect((await complete(placed.id)).order.status).toBe('complete');
  return placed;
}

/** Publishes `payment.refunded` as payments-service would (signed with its key); returns the event id. */
async function publishPaymentRefunded(order: PlacedOrder): Promise<string> {
  const id = randomUUID();
  const type = 'payment.refunded';
  const payment = { id: randomUUID(), orderId: order.id, amountCents: order.priceCents, currency: order.currency, status: 'refunded', provider: 'sandbox', providerRef: null, createdAt: new Date().toISOString() };
  const body = Buffer.from(JSON.stringify({ id, type, occurredAt: new Date().toISOString(), payload: { payment } }));
  channel.publish(`${stack.env.BUS_PREFIX}.events`, type, body, {
    messageId: id,
    type,
    contentType: 'application/json',
    persistent: true,
    headers: stack.identityOf('payments').headers(eventFacts(id, type), body),
  });
  await channel.waitForConfirms();
  return id;
}

/** Whether orders-service has handled the event (recorded in the same transaction as its effect). */
const handled = async (eventId: string): Promise<boolean> => (await stack.services.orders!.parts.db('processed_events').where({ event_id: eventId }).first('event_id')) !== undefined;

/**
 * Waits until every order event written so far has reached the watcher: a new order's order.created
 * is written after them, and the outbox relays in order through one queue, so once it is seen so are they.
 */
async function allOrderEventsSeen(): Promise<void> {
  const marker = await placeOrder(other);
  expect(await eventually(() => events.ofType('order.created').some((e) => e.payload.order.id === marker.id))).toBe(true);
  // Not one more hold counted against `other`.
  expect((await api.del(`/orders/${marker.id}`, other.accessToken)).status).toBe(200);
}

describe('refunding an order (the internal call payments-service makes)', () => {
  test('a complete order becomes refunded, order.refunded is published once, and the listing stays sold', async () => {
    const placed = await paidOrder();
    const res = await refund(placed.id);
    expect(res.order).toMatchObject({ id: placed.id, buyerId: buyer.user.id, listingId: placed.listingId, priceCents: 1800, currency: 'eur', status: 'refunded' });
    // The contract's shape: no internal bookkeeping leaks.
    expect(Object.keys(res.order).sort()).toEqual(['buyerId', 'createdAt', 'currency', 'expiresAt', 'id', 'listingId', 'priceCents', 'status', 'updatedAt']);
    expect((await orderOf(placed.id)).status).toBe('refunded');
    expect(await listingStatus(placed.listingId)).toBe('sold');
    expect(await eventually(async () => refundedEventsOf(placed.id).length === 1)).toBe(true);
    expect(refundedEventsOf(placed.id)[0]!.payload.order).toEqual(res.order);
    // The buyer finds it among their refunded orders.
    const listed = await api.get('/orders?status=refunded', buyer.accessToken);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((o: { id: string }) => o.id)).toContain(placed.id);
  });

  test('refunding again returns the refunded order as it is, with no second event', async () => {
    const placed = await paidOrder();
    const first = await refund(placed.id);
    const again = await refund(placed.id);
    expect(again.order).toEqual(first.order);
    await allOrderEventsSeen();
    expect(refundedEventsOf(placed.id)).toHaveLength(1);
  });

  test('a pending order cannot be refunded: 409 order_not_refundable, and it stays pending', async () => {
    const placed = await placeOrder();
    await expect(refund(placed.id)).rejects.toMatchObject({ status: 409, code: 'order_not_refundable', detail: expect.stringMatching(/not been paid/) });
    expect((await orderOf(placed.id)).status).toBe('pending');
    expect(await listingStatus(placed.listingId)).toBe('reserved');
  });

  test('on behalf of someone else, the order is not found (404), and it stays complete', async () => {
    const placed = await paidOrder();
    await expect(refund(placed.id, other)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(refund('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await orderOf(placed.id)).status).toBe('complete');
  });

  test('a genuine service that is not payments is refused with 403 caller_not_allowed, and nothing changes', async () => {
    const placed = await paidOrder();
    const asListings = await stack.rpcAs('listings');
    const asGateway = await stack.rpcAs('api-gateway');
    await expect(asListings.call('orders.refund', { id: placed.id }, { onBehalfOf: actorOf(buyer) })).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
    await expect(asGateway.call('orders.refund', { id: placed.id }, { token: buyer.accessToken })).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
    expect((await orderOf(placed.id)).status).toBe('complete');
    await allOrderEventsSeen();
    expect(refundedEventsOf(placed.id)).toHaveLength(0);
  });
});

describe('the payment.refunded event', () => {
  test('refunds a complete order even without the call; the call afterwards changes nothing', async () => {
    const placed = await paidOrder();
    const eventId = await publishPaymentRefunded(placed);
    expect(await eventually(async () => (await orderOf(placed.id)).status === 'refunded')).toBe(true);
    expect(await eventually(() => handled(eventId))).toBe(true);
    expect(await eventually(async () => refundedEventsOf(placed.id).length === 1)).toBe(true);
    expect(await listingStatus(placed.listingId)).toBe('sold');
    // The same refund by the call (late, or retried): the order as it is, and still one event.
    expect((await refund(placed.id)).order.status).toBe('refunded');
    // Another payment.refunded for it (a replay by payments-service, under a new event id): nothing more.
    const replay = await publishPaymentRefunded(placed);
    expect(await eventually(() => handled(replay))).toBe(true);
    await allOrderEventsSeen();
    expect(refundedEventsOf(placed.id)).toHaveLength(1);
  });

  test('is ignored for an order that expired or was cancelled (its money was given back): acknowledged, no change, no event', async () => {
    const expired = await placeOrder();
    const cancelled = await placeOrder();
    expect((await api.del(`/orders/${cancelled.id}`, buyer.accessToken)).status).toBe(200);
    expect(await eventually(async () => (await orderOf(expired.id)).status === 'expired', (TTL_SECONDS + 3) * 1000)).toBe(true);

    const eventIds = [await publishPaymentRefunded(expired), await publishPaymentRefunded(cancelled)];
    // Recorded as handled only when the handler succeeded: no error, so no retry and no dead letter.
    for (const eventId of eventIds) expect(await eventually(() => handled(eventId))).toBe(true);
    expect(await eventually(async () => (await channel.checkQueue(paymentRefundedQueue())).messageCount === 0)).toBe(true);
    expect((await channel.checkQueue(deadLetterQueue())).messageCount).toBe(0);
    expect((await orderOf(expired.id)).status).toBe('expired');
    expect((await orderOf(cancelled.id)).status).toBe('cancelled');
    await allOrderEventsSeen();
    expect(refundedEventsOf(expired.id)).toHaveLength(0);
    expect(refundedEventsOf(cancelled.id)).toHaveLength(0);
    // And the refund call says why, for either.
    await expect(refund(expired.id)).rejects.toMatchObject({ status: 409, code: 'order_not_refundable', detail: expect.stringMatching(/expired/) });
    await expect(refund(cancelled.id)).rejects.toMatchObject({ status: 409, code: 'order_not_refundable', detail: expect.stringMatching(/cancelled/) });
  });
});

describe('the sweep', () => {
  test('a refund that lands before listings-service confirmed the sale still leaves the listing sold once it is back', async () => {
    const placed = await placeOrder();
    await stack.stopService('listings');
    let replica: RunningService | undefined;
    try {
      // Paid while listings-service is down: the order is complete, the sold mark is left to the sweep.
      expect((await complete(placed.id)).order.status).toBe('complete');
      expect((await refund(placed.id)).order.status).toBe('refunded');
      // A second replica whose sweep runs often: its first attempts meet listings-service still down.
      replica = await startOrdersService(loadOrdersConfig(stack.envFor('orders')), stack.logger, { sweepIntervalMs: 200 });
      await stack.startService('listings');
      expect(await eventually(async () => (await listingStatus(placed.listingId)) === 'sold', 8000)).toBe(true);
      expect((await orderOf(placed.id)).status).toBe('refunded');
    } finally {
      if (!stack.services.listings) await stack.startService('listings');
      await replica?.stop();
    }
  });
});
