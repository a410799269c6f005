import { client } from '../../test/support/http';
import { busyFor, eventually } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { createStripeProvider, type PaymentProvider } from '../src/providers';
import { type FakeStripe, startFakeStripe, VALID_KEY } from './fake-stripe';
import { type EventRecorder, recordEvents } from '../../test/support/events';
import { type Api, checkout, pay, signInAdmin, startPaymentsStack } from './payments-stack';

/** The whole pay flow with the real Stripe SDK, against a local fake of the Stripe API. */
describe('payments through Stripe', () => {
  const TTL_SECONDS = 3;
  let stripe: FakeStripe;
  let stack: Stack;
  let api: Api;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    const provider = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 10_000 });
    // A slow Stripe must not run into the gateway's RPC timeout: the test is about the order's.
    stack = await startPaymentsStack({ provider, env: { ORDER_TTL_SECONDS: String(TTL_SECONDS), RPC_TIMEOUT_MS: '10000' } });
    api = client(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await stripe?.close();
  });

  const requestsFor = (orderId: string, intentIds: string[] = []) =>
    stripe.requests.filter((r) => r.body['metadata[orderId]'] === orderId || intentIds.some((id) => r.path.startsWith(`/v1/payment_intents/${id}/`)));
  const intentsFor = (orderId: string) => [...stripe.intents.values()].filter((i) => i.metadata.orderId === orderId);

  test('a payment is a manual-capture PaymentIntent for the amount after the coupon, captured once the order is complete', async () => {
    const admin = await signInAdmin(api);
    const coupon = (await api.post('/coupons', { percentOff: 25 }, admin.accessToken)).body.coupon;
    const { buyer, order } = await checkout(api, 4001);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

    expect(res.status).toBe(201);
    const [intent] = intentsFor(order.id);
    const paymentId: string = res.body.payment.id;
    expect(res.body.payment).toMatchObject({ amountCents: 3001, provider: 'stripe', providerRef: intent?.id, status: 'succeeded', couponCode: coupon.code });
    expect(requestsFor(order.id, [intent?.id ?? '']).map((r) => ({ path: r.path, key: r.idempotencyKey }))).toEqual([
      { path: '/v1/payment_intents', key: `order-${order.id}-payment-${paymentId}-authorize` },
      { path: `/v1/payment_intents/${intent?.id}/capture`, key: `order-${order.id}-payment-${paymentId}-capture` },
    ]);
    expect(requestsFor(order.id)[0]?.body).toMatchObject({
      amount: '3001',
      currency: 'usd',
      capture_method: 'manual',
      confirm: 'true',
      payment_method: 'pm_card_visa',
    });
    expect(intent).toMatchObject({ status: 'succeeded', amount_received: 3001 });
  });

  test('a card Stripe declines answers 402 with Stripe\'s message; another card then pays the order', async () => {
    const { buyer, order } = await checkout(api, 1500);

    const declined = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa_chargeDeclined' });

    expect(declined.status).toBe(402);
    expect(declined.body).toMatchObject({ code: 'card_declined', detail: 'Your card was declined.' });

    const paid = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(paid.status).toBe(201);
    const creates = requestsFor(order.id);
    expect(creates).toHaveLength(2);
    // Each attempt is its own PaymentIntent: the second must not replay the first one's decline.
    expect(new Set(creates.map((r) => r.idempotencyKey)).size).toBe(2);
    expect(intentsFor(order.id).map((i) => i.status)).toEqual(['requires_payment_method', 'succeeded']);
  });

  test('an expired card (Stripe gives no decline_code) is declined with 402, and again with 402 when repeated under its Idempotency-Key', async () => {
    const { buyer, order } = await checkout(api);

    const first = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_chargeDeclinedExpiredCard' }, 'expired-card-once');
    const again = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_chargeDeclinedExpiredCard' }, 'expired-card-once');

    expect(first.status).toBe(402);
    expect(first.body).toMatchObject({ code: 'card_declined', detail: 'Your card has expired.' });
    // Before: the empty decline_code was stored, and the repeat answered 409 "checkout time is over"
    // for an order still pending.
    expect(again.status).toBe(402);
    expect({ ...again.body, requestId: undefined }).toEqual({ ...first.body, requestId: undefined });
    expect(requestsFor(order.id)).toHaveLength(1);
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('pending');
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);
  });

  test.each(['pm_card_chargeDeclinedIncorrectCvc', 'pm_card_chargeDeclinedProcessingError'])(
    '%s (no decline_code either) answers 402 to a repeat under the same Idempotency-Key',
    async (paymentMethod) => {
      const { buyer, order } = await checkout(api);

      const answers = [];
      for (let i = 0; i < 2; i++) answers.push((await pay(api, buyer, { orderId: order.id, paymentMethod }, `no-decline-code-${paymentMethod}`)).status);

      expect(answers).toEqual([402, 402]);
    },
  );

  test('the same Idempotency-Key twice sends Stripe one authorization and one capture', async () => {
    const { buyer, order } = await checkout(api);

    const first = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'stripe-once');
    const second = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'stripe-once');

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.payment.id).toBe(first.body.payment.id);
    const [intent] = intentsFor(order.id);
    expect(requestsFor(order.id, [intent?.id ?? '']).map((r) => r.path)).toEqual(['/v1/payment_intents', `/v1/payment_intents/${intent?.id}/capture`]);
  });

  test('an order that expires while Stripe confirms the card gets its authorization cancelled and is never captured', async () => {
    const { buyer, listing, order } = await checkout(api);
    // Stripe answers the authorization only after the order's hold has ended.
    stripe.inject({ delayMs: Date.parse(order.expiresAt) - Date.now() + 300 });

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('order_not_pending');
    const [intent] = intentsFor(order.id);
    const paymentId = (await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items[0]?.id;
    expect(requestsFor(order.id, [intent?.id ?? '']).map((r) => ({ path: r.path, key: r.idempotencyKey }))).toEqual([
      { path: '/v1/payment_intents', key: `order-${order.id}-payment-${paymentId}-authorize` },
      { path: `/v1/payment_intents/${intent?.id}/cancel`, key: `order-${order.id}-payment-${paymentId}-cancel` },
    ]);
    expect(intent).toMatchObject({ status: 'canceled', amount_received: 0 });
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'available')).toBe(true);
  });
});

/** Authorizations that end without a clear answer from Stripe, and captures Stripe refuses. */
describe('payments through Stripe when Stripe does not answer clearly', () => {
  let stripe: FakeStripe;
  let stack: Stack;
  let api: Api;
  let events: EventRecorder<'payment.*'>;
  let lapseBeforeCapture = false;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    // Short timeouts, so that a slow Stripe ends the request without an answer.
    const stripeProvider = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 500, maxNetworkRetries: 1 });
    const provider: PaymentProvider = {
      ...stripeProvider,
      async capture(ref, key) {
        // The authorization's hold ran out before the capture: Stripe has cancelled the intent.
        if (lapseBeforeCapture) stripe.expire(ref);
        return stripeProvider.capture(ref, key);
      },
    };
    // Stale only after the slowest Stripe answer here (2 s) has landed, as in production (5 min).
    stack = await startPaymentsStack({ provider, reconcile: { everyMs: 300, staleAfterMs: 4_000 } });
    api = client(stack);
    events = await recordEvents(stack, ['payment.*']);
  });
  afterAll(async () => {
    await events?.stop();
    await stack?.stop();
    await stripe?.close();
  });
  afterEach(() => {
    lapseBeforeCapture = false;
  });

  const intentsFor = (orderId: string) => [...stripe.intents.values()].filter((i) => i.metadata.orderId === orderId);
  const createsFor = (orderId: string) => stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.body['metadata[orderId]'] === orderId);
  const paymentsOf = async (orderId: string, token: string) => (await api.get(`/payments?orderId=${orderId}`, token)).body.items as { status: string }[];

  test('a timed-out authorization leaves the payment pending, blocks a second charge, and is found and used by the reconciler', async () => {
    const { buyer, listing, order } = await checkout(api);
    // Stripe confirms the card, but only after the adapter has given up waiting (and its retry met the key in use).
    stripe.inject({ delayMs: 2_000 });

    const unclear = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'slow-stripe');
    const retried = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'slow-stripe');
    const anotherTry = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(unclear.status).toBe(503);
    expect(unclear.body.code).toBe('payment_outcome_unknown');
    // Not failed and forgotten: the key and the order stay with the pending payment, so no second intent.
    expect(retried.body.code).toBe('payment_in_progress');
    expect(anotherTry.body.code).toBe('payment_in_progress');

    expect(await eventually(async () => (await paymentsOf(order.id, buyer.accessToken))[0]?.status === 'succeeded', 20_000, 200)).toBe(true);
    expect(intentsFor(order.id)).toEqual([expect.objectContaining({ status: 'succeeded', amount_received: 2500 })]);
    expect(new Set(createsFor(order.id).map((r) => r.idempotencyKey)).size).toBe(1);
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('complete');
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'sold')).toBe(true);
  }, 40_000);

  test('after a 500 stored under the authorization key, the reconciler finds nothing, authorizes under a new key and completes: one intent', async () => {
    const { buyer, order } = await checkout(api);
    stripe.inject('http500');

    const unclear = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(unclear.status).toBe(503);
    expect(await eventually(async () => (await paymentsOf(order.id, buyer.accessToken))[0]?.status === 'succeeded', 20_000, 200)).toBe(true);
    const keys = createsFor(order.id).map((r) => r.idempotencyKey ?? '');
    // The first key only ever gets its stored 500 back; the reconciler's attempt has a key of its own.
    expect(keys.slice(0, 2)).toEqual([keys[0], keys[0]]);
    expect(keys.at(-1)).toMatch(/-authorize-resumed-\d+$/);
    expect(intentsFor(order.id)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
  }, 40_000);

  test('an unclear authorization of an order cancelled meanwhile is found by the reconciler and cancelled: no money kept', async () => {
    const { buyer, listing, order } = await checkout(api);
    stripe.inject({ delayMs: 2_000 });

    const unclear = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });
    const cancelled = await api.del(`/orders/${order.id}`, buyer.accessToken);

    expect(unclear.status).toBe(503);
    expect(cancelled.status).toBe(200);
    expect(await eventually(async () => (await paymentsOf(order.id, buyer.accessToken))[0]?.status === 'failed', 20_000, 200)).toBe(true);
    // The hold Stripe made after the request gave up was found (by the order id) and let go.
    expect(intentsFor(order.id)).toEqual([expect.objectContaining({ status: 'canceled', amount_received: 0 })]);
    expect(createsFor(order.id)).toHaveLength(2);
    expect((await api.get(`/listings/${listing.id}`)).body.listing.status).toBe('available');
  }, 40_000);

  test('a capture refused because the authorization lapsed: the payment fails, payment.capture_failed is published, and a repeat gets the same answer', async () => {
    const { buyer, order } = await checkout(api, 3100);
    lapseBeforeCapture = true;

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'lapsed-hold');
    const again = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' }, 'lapsed-hold');

    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'payment_not_collected' });
    expect({ ...again.body, requestId: undefined }).toEqual({ ...res.body, requestId: undefined });
    // The order was completed before the capture and stays so; the payment says no money was taken.
    expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('complete');
    const [payment] = (await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items;
    expect(payment).toMatchObject({ status: 'failed', amountCents: 3100 });
    expect(intentsFor(order.id)).toEqual([expect.objectContaining({ status: 'canceled', amount_received: 0 })]);
    const announced = await eventually(async () => events.seen.some((e) => e.type === 'payment.capture_failed' && (e.payload as { payment: { id: string } }).payment.id === payment.id));
    expect(announced).toBe(true);
    expect(events.seen.find((e) => e.type === 'payment.capture_failed' && (e.payload as { payment: { id: string } }).payment.id === payment.id)?.payload).toEqual({
      payment,
      reason: 'payment_intent_unexpected_state',
    });
    // Another payment of a complete order is refused: nothing is charged twice.
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).body.code).toBe('order_not_pending');
  });
});

/** A refund Stripe has not completed is not a refund yet. */
describe('refunds through Stripe', () => {
  const TTL_SECONDS = 3;
  let stripe: FakeStripe;
  let stack: Stack;
  let api: Api;
  let authorizeDelayMs = 0;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    const stripeProvider = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 5_000 });
    const provider: PaymentProvider = {
      ...stripeProvider,
      async authorize(req) {
        await busyFor(authorizeDelayMs);
        const result = await stripeProvider.authorize(req);
        // A misbehaving integration that takes the money at once: only a refund gives it back.
        if (result.status === 'authorized') await stripeProvider.capture(result.providerRef, `${req.idempotencyKey}-eager`);
        return result;
      },
    };
    stack = await startPaymentsStack({ provider, env: { ORDER_TTL_SECONDS: String(TTL_SECONDS), RPC_TIMEOUT_MS: '10000' }, reconcile: { everyMs: 300, staleAfterMs: 4_000 } });
    api = client(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await stripe?.close();
  });

  test('money taken for an order that could not be completed counts as refunded only once the pending refund has gone through', async () => {
    const { buyer, order } = await checkout(api);
    authorizeDelayMs = Date.parse(order.expiresAt) - Date.now() + 300;
    stripe.refundOutcome = 'pending';

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('order_not_pending');
    const [intent] = [...stripe.intents.values()].filter((i) => i.metadata.orderId === order.id);
    const refunds = stripe.refunds.filter((r) => r.payment_intent === intent?.id);
    expect(refunds.map((r) => r.status)).toEqual(['pending']);
    // Not refunded yet: the payment stays pending (the payments list shows settled payments only).
    expect((await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items).toEqual([]);

    stripe.settleRefund(refunds[0]?.id ?? '', 'succeeded');

    expect(await eventually(async () => (await api.get(`/payments?orderId=${order.id}`, buyer.accessToken)).body.items[0]?.status === 'refunded', 20_000, 200)).toBe(true);
    expect(stripe.refunds.filter((r) => r.payment_intent === intent?.id)).toHaveLength(1);
  }, 40_000);
});
