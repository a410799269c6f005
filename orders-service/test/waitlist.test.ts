import type { RunningService } from '@market/common';
import { recordEvents } from '../../test/support/events';
import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';
import { startOrdersService } from '../src/app';
import { loadOrdersConfig } from '../src/config';

// Long holds here: nothing expires while a test looks at it. The line of 20 has its own stack below.
const HOLD_SECONDS = 30;

interface SeenEvent {
  type: string;
  payload: Record<string, any>;
}

/** Every order.* event and every listing.transferred of a stack, as an operator watching the bus would see them. */
async function watchOrderEvents(stack: Stack): Promise<{ events: SeenEvent[]; close: () => Promise<void> }> {
  const recorder = await recordEvents(stack, ['order.*', 'listing.transferred']);
  // Read loosely: these tests pick fields from several event types at once.
  const events: SeenEvent[] = recorder.seen;
  return { events, close: () => recorder.stop() };
}

describe('a listing’s waiting list', () => {
  let stack: Stack;
  let api: ReturnType<typeof client>;
  let seller: Session;
  let watcher: Awaited<ReturnType<typeof watchOrderEvents>>;

  beforeAll(async () => {
    stack = await startStack({
      services: ['listings', 'orders'],
      env: {
        ORDER_TTL_SECONDS: String(HOLD_SECONDS),
        WAITLIST_HOLD_SECONDS: String(HOLD_SECONDS + 10),
        WAITLIST_MAX_LENGTH: '5',
        WAITLIST_MAX_PER_PERSON: '3',
        MAX_PENDING_ORDERS_PER_BUYER: '2',
      },
    });
    api = client(stack);
    seller = await api.signUp('Seller');
    watcher = await watchOrderEvents(stack);
  });
  afterAll(async () => {
    await watcher?.close();
    await stack.stop();
  });

  const people = (n: number): Promise<Session[]> => Promise.all(Array.from({ length: n }, (_, i) => api.signUp(`Person ${i}`)));
  const join = (listingId: string, who: Session) => api.post(`/listings/${listingId}/waitlist`, undefined, who.accessToken);
  const leave = (listingId: string, who: Session) => api.del(`/listings/${listingId}/waitlist`, who.accessToken);
  const placesOf = async (who: Session): Promise<{ listingId: string; position: number; joinedAt: string }[]> => (await api.get('/waitlist', who.accessToken)).body.items;
  const positionIn = async (listingId: string, who: Session): Promise<number | undefined> => (await placesOf(who)).find((p) => p.listingId === listingId)?.position;
  const order = async (listingId: string, who: Session) => {
    const res = await api.post('/orders', { listingId }, who.accessToken);
    if (res.status !== 201) throw new Error(`order failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.order as { id: string; listingId: string; priceCents: number };
  };
  const ordersFor = async (listingId: string, who: Session) =>
    ((await api.get('/orders?limit=100', who.accessToken)).body.items as { id: string; listingId: string; status: string; priceCents: number; createdAt: string; expiresAt: string; updatedAt: string }[]).filter((o) => o.listingId === listingId);
  const pendingFor = async (listingId: string, who: Session) => (await ordersFor(listingId, who)).find((o) => o.status === 'pending');
  const listingStatus = async (id: string): Promise<string> => (await api.get(`/listings/${id}`)).body.listing.status;
  /** What payments-service does once a charge succeeded. */
  const pay = async (orderId: string, who: Session) =>
    (await stack.rpcAs('payments')).call('orders.complete', { id: orderId }, { onBehalfOf: { id: who.user.id, role: 'user' } });
  /** A listing held by a fresh buyer, and that buyer's order. */
  const heldListing = async () => {
    const listing = await api.createListing(seller.accessToken);
    const [holder] = await people(1);
    return { listing, holder: holder!, held: await order(listing.id, holder!) };
  };

  test('joining a held listing puts you in line with your position; the answers for everything else change nothing', async () => {
    const { listing, holder } = await heldListing();
    const [a, b] = await people(2);

    const first = await join(listing.id, a!);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ entry: { listingId: listing.id, position: 1, joinedAt: expect.any(String) } });
    expect(Math.abs(Date.parse(first.body.entry.joinedAt) - Date.now())).toBeLessThan(5000);
    expect((await join(listing.id, b!)).body.entry.position).toBe(2);

    const again = await join(listing.id, a!);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_waiting', position: 1 });
    const byHolder = await join(listing.id, holder);
    expect(byHolder.status).toBe(409);
    expect(byHolder.body.code).toBe('already_holding');
    const bySeller = await join(listing.id, seller);
    expect(bySeller.status).toBe(403);
    expect(bySeller.body.code).toBe('own_listing');
    expect((await api.post(`/listings/00000000-0000-4000-8000-000000000000/waitlist`, undefined, a!.accessToken)).status).toBe(404);
    expect((await api.post(`/listings/${listing.id}/waitlist`, undefined)).status).toBe(401);
    expect((await api.post('/listings/not-a-uuid/waitlist', undefined, a!.accessToken)).status).toBe(400);

    const available = await api.createListing(seller.accessToken);
    const notHeld = await join(available.id, a!);
    expect(notHeld.status).toBe(409);
    expect(notHeld.body.code).toBe('listing_available');

    expect(await placesOf(a!)).toEqual([{ listingId: listing.id, position: 1, joinedAt: first.body.entry.joinedAt }]);
    expect(await placesOf(b!)).toEqual([{ listingId: listing.id, position: 2, joinedAt: expect.any(String) }]);
    expect(await placesOf(seller)).toEqual([]);
  });

  test('leaving gives up your place and moves everyone behind you up; leaving again is still a 204', async () => {
    const { listing } = await heldListing();
    const [a, b, c] = await people(3);
    for (const who of [a!, b!, c!]) expect((await join(listing.id, who)).status).toBe(201);
    expect((await leave(listing.id, a!)).status).toBe(204);
    expect(await placesOf(a!)).toEqual([]);
    expect(await positionIn(listing.id, b!)).toBe(1);
    expect(await positionIn(listing.id, c!)).toBe(2);
    expect((await leave(listing.id, a!)).status).toBe(204);
    expect(await positionIn(listing.id, c!)).toBe(2);
    // Back in, at the end.
    expect((await join(listing.id, a!)).body.entry.position).toBe(3);
  });

  test('a line holds at most WAITLIST_MAX_LENGTH people and a person waits in at most WAITLIST_MAX_PER_PERSON lines', async () => {
    const { listing } = await heldListing();
    const crowd = await people(6);
    const joins = [];
    for (const who of crowd) joins.push(await join(listing.id, who));
    expect(joins.slice(0, 5).map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(joins[5]).toMatchObject({ status: 409, body: { code: 'waitlist_full' } });
    expect(await placesOf(crowd[5]!)).toEqual([]);

    const [keen] = await people(1);
    const held = await Promise.all([1, 2, 3, 4].map(() => heldListing()));
    const results = await Promise.all(held.map(({ listing: l }) => join(l.id, keen!)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.body.code).toBe('too_many_waitlists');
    expect(refused[0]!.body.detail).toContain('3');
    expect(await placesOf(keen!)).toHaveLength(3);
  });

  test('a cancel hands the listing to the first in line at once: a pending order at the same price for WAITLIST_HOLD_SECONDS, never available to anyone else', async () => {
    const { listing, holder, held } = await heldListing();
    const [a, b, bystander] = await people(3);
    await join(listing.id, a!);
    await join(listing.id, b!);

    const cancelled = await api.del(`/orders/${held.id}`, holder.accessToken);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.order.status).toBe('cancelled');
    // No waiting: the hand-over is done when the cancel answers.
    const handed = await pendingFor(listing.id, a!);
    expect(handed).toMatchObject({ status: 'pending', priceCents: held.priceCents });
    expect(Date.parse(handed!.expiresAt) - Date.parse(handed!.createdAt)).toBe((HOLD_SECONDS + 10) * 1000);
    expect(await listingStatus(listing.id)).toBe('reserved');
    expect((await api.post('/orders', { listingId: listing.id }, bystander!.accessToken)).body.code).toBe('listing_reserved');
    expect(await placesOf(a!)).toEqual([]);
    expect(await positionIn(listing.id, b!)).toBe(1);
    expect(await eventually(async () => watcher.events.some((e) => e.type === 'order.handed_over' && e.payload.fromOrderId === held.id))).toBe(true);
    const told = watcher.events.find((e) => e.type === 'order.handed_over' && e.payload.fromOrderId === held.id)!;
    expect(told.payload.order).toMatchObject({ id: handed!.id, buyerId: a!.user.id, listingId: listing.id });

    // listings-service sells it for the new order: the reservation moved to it.
    expect((await pay(handed!.id, a!)).order.status).toBe('complete');
    expect(await eventually(async () => (await listingStatus(listing.id)) === 'sold')).toBe(true);
  });

  test('a sale ends the line: everyone waiting is out, and a join is a 409 listing_sold', async () => {
    const { listing, holder, held } = await heldListing();
    const [a, b] = await people(2);
    await join(listing.id, a!);
    await join(listing.id, b!);
    await pay(held.id, holder);
    expect(await placesOf(a!)).toEqual([]);
    expect(await placesOf(b!)).toEqual([]);
    const late = await join(listing.id, a!);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('listing_sold');
    expect(await eventually(async () => watcher.events.some((e) => e.type === 'order.waitlist_closed' && e.payload.listingId === listing.id))).toBe(true);
    expect(watcher.events.find((e) => e.type === 'order.waitlist_closed' && e.payload.listingId === listing.id)!.payload.buyerIds).toEqual([a!.user.id, b!.user.id]);
    expect(await eventually(async () => (await listingStatus(listing.id)) === 'sold')).toBe(true);
    expect((await api.post(`/listings/${listing.id}/waitlist`, undefined, b!.accessToken)).body.code).toBe('listing_sold');
  });

  test('whoever can no longer buy when their turn comes (deleted, at their hold limit) is passed over and leaves the line', async () => {
    const { listing, holder, held } = await heldListing();
    const [gone, busy, next, after] = await people(4);
    for (const who of [gone!, busy!, next!, after!]) await join(listing.id, who);
    // busy holds MAX_PENDING_ORDERS_PER_BUYER (2) other listings.
    for (let i = 0; i < 2; i++) await order((await api.createListing(seller.accessToken)).id, busy!);
    expect((await api.del(`/users/${gone!.user.id}`, gone!.accessToken)).status).toBe(204);
    // orders-service has learned of the deletion: it refuses the deleted account's token itself.
    const asGateway = await stack.rpcAs('api-gateway');
    expect(await eventually(async () => asGateway.call('orders.listWaitlist', {}, { token: gone!.accessToken }).then(() => false, () => true))).toBe(true);

    expect((await api.del(`/orders/${held.id}`, holder.accessToken)).status).toBe(200);
    expect(await pendingFor(listing.id, next!)).toBeDefined();
    expect(await pendingFor(listing.id, busy!)).toBeUndefined();
    expect(await placesOf(busy!)).toEqual([]);
    expect(await positionIn(listing.id, after!)).toBe(1);
    const passedOver = () => watcher.events.filter((e) => e.type === 'order.waitlist_passed_over' && e.payload.listingId === listing.id).map((e) => [e.payload.buyerId, e.payload.reason]);
    expect(await eventually(async () => passedOver().length === 2)).toBe(true);
    expect(passedOver()).toEqual([[gone!.user.id, 'deleted'], [busy!.user.id, 'hold_limit']]);
  });

  test('joins and leaves racing a hand-over: exactly one hold, given to the first still in line, and nobody doubled or lost', async () => {
    const rounds = await Promise.all(
      [0, 1, 2, 3, 4].map(async () => {
        const { listing, holder, held } = await heldListing();
        const [a, b, c, d, e] = await people(5);
        for (const who of [a!, b!, c!, d!]) await join(listing.id, who);
        const [cancel, leftA, leftB, joinedE] = await Promise.all([
          api.del(`/orders/${held.id}`, holder.accessToken),
          leave(listing.id, a!),
          leave(listing.id, b!),
          join(listing.id, e!),
        ]);
        return { listing, line: [a!, b!, c!, d!, e!], cancel, leftA, leftB, joinedE };
      }),
    );
    for (const { listing, line, cancel, leftA, leftB, joinedE } of rounds) {
      const [a, b, c, d, e] = line as [Session, Session, Session, Session, Session];
      expect([cancel.status, leftA.status, leftB.status, joinedE.status]).toEqual([200, 204, 204, 201]);
      const holders = [];
      for (const who of line) if (await pendingFor(listing.id, who)) holders.push(who);
      // One hold, and it went to a, b or c: whoever was first in line when the cancel took the listing's lock.
      expect(holders).toHaveLength(1);
      const holder = holders[0]!;
      expect([a, b, c]).toContain(holder);
      // a and b are out either way (they left, or one of them got the listing first); the rest keep their order.
      const expectedLine = holder === c ? [d, e] : [c, d, e];
      for (const who of line) {
        const position = await positionIn(listing.id, who);
        const expected = expectedLine.indexOf(who);
        expect({ who: who.user.name, position }).toEqual({ who: who.user.name, position: expected === -1 ? undefined : expected + 1 });
      }
    }
  });

  test('a hand-over whose reservation move was cut short (listings-service down, then orders-service stopped) is finished by the sweep exactly once', async () => {
    const { listing, holder, held } = await heldListing();
    const [a, b, bystander] = await people(3);
    await join(listing.id, a!);
    await join(listing.id, b!);

    await stack.stopService('listings');
    try {
      // The hand-over commits; the move of the reservation cannot reach listings-service.
      expect((await api.del(`/orders/${held.id}`, holder.accessToken)).status).toBe(200);
      expect(await pendingFor(listing.id, a!)).toBeDefined();
      // The crash: orders-service goes away with the move undone.
      await stack.stopService('orders');
    } finally {
      await stack.startService('listings');
    }
    // Still reserved (for the cancelled order): at no moment could the public take it.
    expect(await listingStatus(listing.id)).toBe('reserved');
    const about = (type: string) => watcher.events.filter((e) => e.type === type && (e.payload.order?.listingId ?? e.payload.listingId ?? e.payload.listing?.id) === listing.id);
    expect(about('listing.transferred')).toEqual([]);

    // Two replicas come back at once and both sweep.
    const [replica]: [RunningService, RunningService] = await Promise.all([startOrdersService(loadOrdersConfig(stack.envFor('orders')), stack.logger), stack.startService('orders')]);
    try {
      const handed = (await pendingFor(listing.id, a!))!;
      // The sweep moves the reservation, unasked: nobody has touched the new order yet.
      expect(await eventually(async () => about('listing.transferred').length > 0)).toBe(true);
      expect(about('listing.transferred')[0]!.payload).toMatchObject({ fromOrderId: held.id, toOrderId: handed.id });
      expect((await api.post('/orders', { listingId: listing.id }, bystander!.accessToken)).body.code).toBe('listing_reserved');
      // listings-service sells only for the order holding the reservation.
      expect((await pay(handed.id, a!)).order.status).toBe('complete');
      expect(await eventually(async () => (await listingStatus(listing.id)) === 'sold')).toBe(true);
    } finally {
      await replica.stop();
    }
    // Exactly once: one move, one hand-over, one new order, and the rest of the line untouched until the sale closed it.
    expect(await eventually(async () => about('order.waitlist_closed').length === 1)).toBe(true);
    expect(about('listing.transferred')).toHaveLength(1);
    expect(about('order.handed_over')).toHaveLength(1);
    expect(about('order.created').map((e) => e.payload.order.buyerId)).toEqual([holder.user.id, a!.user.id]);
    expect(about('order.waitlist_closed')[0]!.payload.buyerIds).toEqual([b!.user.id]);
    expect(await ordersFor(listing.id, a!)).toHaveLength(1);
  });
});

describe('a line of 20 under short holds', () => {
  // Two hold lengths, two wait queues: the checkout's and the hand-over's.
  const CHECKOUT_SECONDS = 3;
  const HANDOVER_SECONDS = 1;
  let stack: Stack;
  let api: ReturnType<typeof client>;
  let watcher: Awaited<ReturnType<typeof watchOrderEvents>>;

  beforeAll(async () => {
    stack = await startStack({
      services: ['listings', 'orders'],
      env: { ORDER_TTL_SECONDS: String(CHECKOUT_SECONDS), WAITLIST_HOLD_SECONDS: String(HANDOVER_SECONDS), WAITLIST_MAX_LENGTH: '20' },
    });
    api = client(stack);
    watcher = await watchOrderEvents(stack);
  });
  afterAll(async () => {
    await watcher?.close();
    await stack.stop();
  });

  test('each of 20 people gets the hold in join order, one at a time, as the holds expire; a bystander gets it only once the line is empty', async () => {
    const [seller, holder, bystander, ...line] = await Promise.all(Array.from({ length: 23 }, (_, i) => api.signUp(`Person ${i}`)));
    const listing = await api.createListing(seller!.accessToken);
    const first = await api.post('/orders', { listingId: listing.id }, holder!.accessToken);
    expect(first.status).toBe(201);
    for (const [i, who] of line.entries()) {
      const joined = await api.post(`/listings/${listing.id}/waitlist`, undefined, who.accessToken);
      expect({ i, status: joined.status, position: joined.body.entry?.position }).toEqual({ i, status: 201, position: i + 1 });
    }

    // The bystander keeps trying to buy, as a script would; it must not win while anyone waits.
    let bought: { id: string; createdAt: string } | undefined;
    const refusals = new Set<string>();
    await eventually(async () => {
      const res = await api.post('/orders', { listingId: listing.id }, bystander!.accessToken);
      if (res.status === 201) bought = res.body.order;
      else refusals.add(res.body.code);
      return bought !== undefined;
    }, 55_000, 50);
    expect(bought).toBeDefined();
    expect([...refusals]).toEqual(['listing_reserved']);

    type Hold = { id: string; listingId: string; status: string; createdAt: string; expiresAt: string; updatedAt: string };
    const ordersOf = async (who: Session) => (await api.get('/orders', who.accessToken)).body.items as Hold[];
    const holds: Hold[] = [];
    for (const who of line) {
      const mine = await ordersOf(who);
      expect(mine).toHaveLength(1);
      holds.push(mine[0]!);
    }
    const firstHold = (await ordersOf(holder!))[0]!;
    let previousEnd = Date.parse(firstHold.updatedAt);
    for (const [i, hold] of holds.entries()) {
      expect({ i, status: hold.status, listingId: hold.listingId }).toEqual({ i, status: 'expired', listingId: listing.id });
      expect(Date.parse(hold.expiresAt) - Date.parse(hold.createdAt)).toBe(HANDOVER_SECONDS * 1000);
      // One at a time, in join order: each hold starts when the one before ended, never before.
      expect(Date.parse(hold.createdAt)).toBeGreaterThanOrEqual(previousEnd);
      expect(Date.parse(hold.updatedAt)).toBeGreaterThanOrEqual(Date.parse(hold.expiresAt));
      previousEnd = Date.parse(hold.updatedAt);
    }
    expect(Date.parse(bought!.createdAt)).toBeGreaterThanOrEqual(previousEnd);
    for (const who of line) expect((await api.get('/waitlist', who.accessToken)).body.items).toEqual([]);
    // listings-service saw the reservation move 20 times, each from one hold to the next.
    const moves = watcher.events.filter((e) => e.type === 'listing.transferred' && e.payload.listing.id === listing.id).map((e) => [e.payload.fromOrderId, e.payload.toOrderId]);
    expect(moves).toEqual(holds.map((hold, i) => [i === 0 ? firstHold.id : holds[i - 1]!.id, hold.id]));
  }, 90_000);
});
