import { client, eventually } from '../../test/support/http';
import type { Stack } from '../../test/support/stack';
import { createStripeProvider } from '../src/providers';
import { type FakeStripe, startFakeStripe, VALID_KEY } from './fake-stripe';
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
