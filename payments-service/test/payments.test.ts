import { createLogger } from '@market/common';
import { client } from '../../test/support/http';
import { busyFor, eventually, until } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { startPaymentsService } from '../src/app';
import { loadPaymentsConfig } from '../src/config';
import { createSandboxProvider, type SandboxProvider } from '../src/providers';
import { type EventRecorder, recordEvents } from '../../test/support/events';
import { type Api, capturedOf, checkout, intentsOf, pay, startPaymentsStack } from './payments-stack';

describe('paying for an order', () => {
  let stack: Stack;
  let api: Api;
  let sandbox: SandboxProvider;
  let events: EventRecorder<'payment.*'>;

  beforeAll(async () => {
    sandbox = createSandboxProvider();
    stack = await startPaymentsStack({ provider: sandbox });
    api = client(stack);
    events = await recordEvents(stack, ['payment.*']);
  });
  afterAll(async () => {
    await events?.stop();
    await stack?.stop();
  });

  test('a buyer pays a pending order with pm_card_visa: 201, the order is complete and the listing sold', async () => {
    const { buyer, listing, order } = await checkout(api, 2500);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(201);
    const [intent] = intentsOf(sandbox, order.id);
    expect(res.body.payment).toEqual({
      id: expect.any(String),
      orderId: order.id,
      amountCents: 2500,
      currency: 'usd',
      status: 'succeeded',
      provider: 'sandbox',
      providerRef: intent?.id,
      createdAt: expect.any(String),
    });
    expect(res.body.order).toMatchObject({ id: order.id, status: 'complete' });
    expect(intentsOf(sandbox, order.id)).toEqual([expect.objectContaining({ amountCents: 2500, currency: 'usd', status: 'succeeded', refunded: false })]);
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('complete');
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'sold')).toBe(true);
  });

  test('a sold listing can never be ordered again', async () => {
    const { buyer, listing, order } = await checkout(api);
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);
    const someoneElse = await api.signUp();

    const again = await api.post('/orders', { listingId: listing.id }, someoneElse.accessToken);

    expect(again.status).toBe(409);
    expect(again.body.code).toBe('listing_sold');
  });

  test('a successful payment is announced as payment.succeeded with the payment', async () => {
    const { buyer, order } = await checkout(api);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(201);
    const announced = await eventually(async () => events.seen.some((e) => e.type === 'payment.succeeded' && (e.payload as { payment: { id: string } }).payment.id === res.body.payment.id));
    expect(announced).toBe(true);
    const event = events.seen.find((e) => e.type === 'payment.succeeded' && (e.payload as { payment: { id: string } }).payment.id === res.body.payment.id);
    expect(event?.payload).toEqual({ payment: res.body.payment });
  });

  test('the amount is worked out on the server: a client that sends amountCents gets a 400 and nothing is charged', async () => {
    const { buyer, order } = await checkout(api, 2500);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', amountCents: 1 });

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(intentsOf(sandbox, order.id)).toHaveLength(0);
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('pending');
  });

  test('only the buyer can pay: anyone else gets 404 and nothing is charged', async () => {
    const { seller, order } = await checkout(api);
    const stranger = await api.signUp();

    const bySeller = await pay(api, seller, { orderId: order.id, paymentMethod: 'pm_card_visa' });
    const byStranger = await pay(api, stranger, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect([bySeller.status, byStranger.status]).toEqual([404, 404]);
    expect(intentsOf(sandbox, order.id)).toHaveLength(0);
  });

  test('an order that does not exist is a 404', async () => {
    const buyer = await api.signUp();

    const res = await pay(api, buyer, { orderId: '00000000-0000-4000-8000-00000000beef', paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(404);
  });

  test('a payment without a paymentMethod is refused with a 400 naming the field, before anything is charged', async () => {
    const { buyer, order } = await checkout(api);

    const res = await pay(api, buyer, { orderId: order.id });

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'payment_method_required', errors: [{ field: 'paymentMethod' }] });
    expect(intentsOf(sandbox, order.id)).toHaveLength(0);
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);
  });

  test('a paid order cannot be paid again: 409 order_not_pending and still one charge', async () => {
    const { buyer, order } = await checkout(api);
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);

    const again = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(again.status).toBe(409);
    expect(again.body.code).toBe('order_not_pending');
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
  });

  test('parallel payments of one order end in exactly one success and one charge', async () => {
    const { buyer, order } = await checkout(api);

    const results = await Promise.all(Array.from({ length: 5 }, () => pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })));

    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    for (const refused of results.filter((r) => r.status === 409)) expect(['payment_in_progress', 'order_not_pending']).toContain(refused.body.code);
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
    expect(capturedOf(sandbox, order.id)).toHaveLength(1);
    const listed = await api.get(`/payments?orderId=${order.id}`, buyer.accessToken);
    expect(listed.body.items.map((p: { status: string }) => p.status)).toEqual(['succeeded']);
  });

  test('the same Idempotency-Key twice returns the same payment and charges once', async () => {
    const { buyer, order } = await checkout(api);

    const first = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'checkout-42');
    const second = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'checkout-42');

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.payment).toEqual(first.body.payment);
    expect(second.body.order).toMatchObject({ id: order.id, status: 'complete' });
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
  });

  test('the same Idempotency-Key sent twice at once charges once', async () => {
    const { buyer, order } = await checkout(api);

    const results = await Promise.all([1, 2].map(() => pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'double-click')));

    expect(results.filter((r) => r.status === 201)).not.toHaveLength(0);
    for (const r of results) expect(r.status === 201 || r.body.code === 'payment_in_progress').toBe(true);
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.body.payment.id)).size).toBe(1);
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
  });

  test('an Idempotency-Key already used for one order cannot pay another', async () => {
    const first = await checkout(api);
    expect((await pay(api, first.buyer, { orderId: first.order.id, paymentMethod: 'pm_card_visa' }, 'reused-key')).status).toBe(201);
    const other = await api.post('/orders', { listingId: (await api.createListing((await api.signUp()).accessToken)).id }, first.buyer.accessToken);

    const res = await pay(api, first.buyer, { orderId: other.body.order.id, paymentMethod: 'pm_card_visa' }, 'reused-key');

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('idempotency_key_reused');
    expect(intentsOf(sandbox, other.body.order.id)).toHaveLength(0);
  });

  test('a declined card answers 402 card_declined and leaves the order payable; pm_card_visa then pays it', async () => {
    const { buyer, order } = await checkout(api);

    const declined = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_chargeDeclined' });

    expect(declined.status).toBe(402);
    expect(declined.body).toMatchObject({ code: 'card_declined', detail: 'Your card was declined.' });
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('pending');

    const paid = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(paid.status).toBe(201);
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['requires_payment_method', 'succeeded']);
    const listed = await api.get(`/payments?orderId=${order.id}`, buyer.accessToken);
    expect(listed.body.items.map((p: { status: string }) => p.status).sort()).toEqual(['failed', 'succeeded']);
  });

  test('a declined payment repeated with its Idempotency-Key is declined again without another attempt', async () => {
    const { buyer, order } = await checkout(api);
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_chargeDeclined' }, 'declined-once')).status).toBe(402);

    const again = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_chargeDeclined' }, 'declined-once');

    expect(again.status).toBe(402);
    expect(again.body.code).toBe('card_declined');
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
  });

  test("the payments list holds the caller's own payments only, and can be filtered by order", async () => {
    const a = await checkout(api);
    const b = await checkout(api);
    const paidA = await pay(api, a.buyer, { orderId: a.order.id, paymentMethod: 'pm_card_visa' });
    await pay(api, b.buyer, { orderId: b.order.id, paymentMethod: 'pm_card_visa' });

    const mine = await api.get('/payments', a.buyer.accessToken);
    const filtered = await api.get(`/payments?orderId=${b.order.id}`, a.buyer.accessToken);

    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([paidA.body.payment]);
    expect(filtered.body.items).toEqual([]);
  });
});

describe('starting payments-service', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startPaymentsStack({ provider: createSandboxProvider() });
  });
  afterAll(() => stack?.stop());

  async function warningsAtStart(env: Record<string, string>): Promise<string[]> {
    const logger = createLogger('payments-service', 'error');
    const warn = jest.spyOn(logger, 'warn');
    // A second replica on the stack's bus and database, stopped again at once.
    const replica = await startPaymentsService(loadPaymentsConfig({ ...stack.envFor('payments'), ...env }), logger);
    await replica.stop();
    return warn.mock.calls.map(([message]) => String(message));
  }

  test('in production with PAYMENTS_PROVIDER=sandbox warns that no real money is charged, and starts', async () => {
    expect(await warningsAtStart({ NODE_ENV: 'production', PAYMENTS_PROVIDER: 'sandbox' })).toEqual([expect.stringContaining('PAYMENTS_PROVIDER=sandbox')]);
  });

  test('in production with Stripe, or outside production, gives no such warning', async () => {
    expect(await warningsAtStart({ NODE_ENV: 'production', PAYMENTS_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_test_abcdefgh' })).toEqual([]);
    expect(await warningsAtStart({ NODE_ENV: 'development' })).toEqual([]);
  });
});

describe('paying around the order expiry', () => {
  const TTL_SECONDS = 3;
  let stack: Stack;
  let api: Api;
  let sandbox: SandboxProvider;
  let authorizeDelayMs = 0;
  let captureAtAuthorization = false;

  beforeAll(async () => {
    sandbox = createSandboxProvider();
    const provider: SandboxProvider = {
      ...sandbox,
      async authorize(req) {
        await busyFor(authorizeDelayMs);
        const result = await sandbox.authorize(req);
        // A misbehaving provider that takes the money at once, whatever it was asked to do.
        if (captureAtAuthorization && result.status === 'authorized') await sandbox.capture(result.providerRef, `${req.idempotencyKey}-eager`);
        return result;
      },
    };
    // A slow authorization must not run into the gateway's RPC timeout: this is about the order's.
    stack = await startPaymentsStack({ provider, env: { ORDER_TTL_SECONDS: String(TTL_SECONDS), RPC_TIMEOUT_MS: '10000' } });
    api = client(stack);
  });
  afterAll(() => stack?.stop());
  afterEach(() => {
    authorizeDelayMs = 0;
    captureAtAuthorization = false;
  });

  test('paying after the order expired answers 409 order_not_pending and keeps no money', async () => {
    const { buyer, listing, order } = await checkout(api);
    await until(order.expiresAt, 100);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('order_not_pending');
    expect(capturedOf(sandbox, order.id)).toHaveLength(0);
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'available')).toBe(true);
  });

  test('an order that expires while the card is being authorized is not completed and its authorization is cancelled', async () => {
    const { buyer, listing, order } = await checkout(api);
    authorizeDelayMs = Date.parse(order.expiresAt) - Date.now() + 300;

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('order_not_pending');
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['canceled']);
    expect((await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items.map((p: { status: string }) => p.status)).toEqual(['failed']);
    expect(await eventually(async () => (await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status === 'expired')).toBe(true);
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'available')).toBe(true);
  });

  test('payments racing the expiry end either complete with one capture or expired with no money kept', async () => {
    authorizeDelayMs = 100;
    const offsetsMs = [-1200, -250, -150, -100, -50, 0, 50, 300];
    const checkouts = await Promise.all(offsetsMs.map(() => checkout(api)));

    const outcomes = await Promise.all(
      checkouts.map(async (c, i) => {
        await until(c.order.expiresAt, offsetsMs[i]);
        return { c, res: await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa' }) };
      }),
    );

    for (const { c, res } of outcomes) {
      const order = (await api.get(`/orders/${c.order.id}`, c.buyer.accessToken)).body.order;
      if (res.status === 201) {
        expect(order.status).toBe('complete');
        expect(capturedOf(sandbox, c.order.id)).toHaveLength(1);
        expect(intentsOf(sandbox, c.order.id)).toHaveLength(1);
      } else {
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'order_not_pending' });
        expect(order.status).not.toBe('complete');
        expect(capturedOf(sandbox, c.order.id)).toHaveLength(0);
        expect(intentsOf(sandbox, c.order.id).every((i) => i.status === 'canceled')).toBe(true);
      }
    }
    // The earliest payment had plenty of time and the latest none: both outcomes were exercised.
    expect(outcomes[0]?.res.status).toBe(201);
    expect(outcomes.at(-1)?.res.status).toBe(409);
  });

  test('money taken for an order that could not be completed is refunded automatically', async () => {
    const { buyer, order } = await checkout(api);
    authorizeDelayMs = Date.parse(order.expiresAt) - Date.now() + 300;
    captureAtAuthorization = true;

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('order_not_pending');
    expect(intentsOf(sandbox, order.id)).toEqual([expect.objectContaining({ status: 'succeeded', refunded: true })]);
    expect((await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items.map((p: { status: string }) => p.status)).toEqual(['refunded']);
  });
});

describe('a payment whose order cannot be confirmed', () => {
  let stack: Stack;
  let api: Api;
  let sandbox: SandboxProvider;
  let stopOrdersAfterAuthorizing = false;

  beforeAll(async () => {
    sandbox = createSandboxProvider();
    const provider: SandboxProvider = {
      ...sandbox,
      async authorize(req) {
        const result = await sandbox.authorize(req);
        // orders-service goes away between the authorization and the completion of the order.
        if (stopOrdersAfterAuthorizing) await stack.stopService('orders');
        return result;
      },
    };
    // Stale after longer than the request keeps the payment untouched (an orders RPC timeout of 3 s).
    stack = await startPaymentsStack({ provider, reconcile: { everyMs: 300, staleAfterMs: 8000 } });
    api = client(stack);
  });
  afterAll(() => stack?.stop());

  test('is neither captured nor released while the order is unknown, and is settled once orders-service is back', async () => {
    const { buyer, listing, order } = await checkout(api);
    stopOrdersAfterAuthorizing = true;

    // Straight to payments-service, waiting longer than the gateway would, to read its own answer.
    const answer = await stack.gateway.rpc
      .call('payments.create', { payment: { orderId: order.id, paymentMethod: 'pm_card_visa' } }, { token: buyer.accessToken, timeoutMs: 30_000 })
      .then(
        () => undefined,
        (err: unknown) => err,
      );

    expect(answer).toMatchObject({ status: 503, code: 'payment_outcome_unknown' });
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['requires_capture']);
    expect((await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items).toEqual([]);

    stopOrdersAfterAuthorizing = false;
    await stack.startService('orders');

    expect(await eventually(async () => capturedOf(sandbox, order.id).length === 1, 25_000, 200)).toBe(true);
    expect(await eventually(async () => (await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items[0]?.status === 'succeeded')).toBe(true);
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('complete');
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'sold')).toBe(true);
  }, 60_000);
});
