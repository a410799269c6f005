import Stripe from 'stripe';
import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { createStripeProvider, STRIPE_API_VERSION } from '../src/providers';
import { type FakeIntent, type FakeStripe, startFakeStripe, VALID_KEY } from './fake-stripe';
import { recordEvents } from '../../test/support/events';
import { type Api, checkout, pay, signInAdmin, startPaymentsStack } from './payments-stack';

const WEBHOOK_SECRET = 'whsec_test_market_webhooks_0123456789';
const PUBLISHABLE_KEY = 'pk_test_market0123456789';

/**
 * Stripe's webhooks through the gateway's POST /webhooks/stripe, with the real SDK on both ends: the
 * fake Stripe signs and delivers its events as Stripe does, payments-service verifies them with
 * constructEvent. 3-D Secure outcomes, cancellations, refunds and disputes reach the payment and the
 * order without anyone asking.
 */
describe('Stripe webhooks', () => {
  let stripe: FakeStripe;
  let stack: Stack;
  let api: Api;
  let admin: Session;
  /** The SDK pointed at the fake, acting as someone at Stripe's dashboard. */
  let dashboard: Stripe;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    const provider = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 10_000 });
    stack = await startPaymentsStack({ provider, env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_PUBLISHABLE_KEY: PUBLISHABLE_KEY, RPC_TIMEOUT_MS: '10000' } });
    stripe.webhook = { url: `${stack.url}/webhooks/stripe`, secret: WEBHOOK_SECRET };
    api = client(stack);
    admin = await signInAdmin(api);
    dashboard = new Stripe(VALID_KEY, { apiVersion: STRIPE_API_VERSION, host: '127.0.0.1', port: stripe.port, protocol: 'http' });
  });
  afterAll(async () => {
    await stripe?.close();
    await stack?.stop();
  });

  const intentOf = (orderId: string): FakeIntent | undefined => [...stripe.intents.values()].filter((i) => i.metadata.orderId === orderId).at(-1);
  const paymentOf = async (buyer: Session, orderId: string) => (await api.get(`/payments?orderId=${orderId}`, buyer.accessToken)).body.items[0];
  const orderOf = async (buyer: Session, orderId: string) => (await api.get(`/orders/${orderId}`, buyer.accessToken)).body.order;
  const eventsOf = (type: string, intentId: string) => stripe.events.filter((e) => e.type === type && (e.data.object as { id?: string; payment_intent?: string }).id === intentId);
  /** A sale: paid with pm_card_visa and captured. */
  async function sale() {
    const { buyer, order } = await checkout(api, 4200);
    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });
    expect(res.status).toBe(201);
    return { buyer, order, payment: res.body.payment as { id: string; providerRef: string } };
  }

  test('browsers get the publishable key for Stripe.js from GET /config, without signing in', async () => {
    const res = await api.get('/config');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ stripe: { publishableKey: PUBLISHABLE_KEY } });
  });

  test('3-D Secure: 202 with the client secret for Stripe.js; the buyer passes, and the webhook completes the order and captures once', async () => {
    const { buyer, order } = await checkout(api, 5100);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });

    const intent = intentOf(order.id);
    expect(res.status).toBe(202);
    expect(res.body.payment).toMatchObject({ status: 'requires_action', providerRef: intent?.id, nextAction: { type: 'use_stripe_sdk', clientSecret: intent?.client_secret } });
    expect(intent?.status).toBe('requires_action');

    stripe.authenticate(intent?.id ?? '', 'complete');

    expect(await eventually(async () => (await paymentOf(buyer, order.id))?.status === 'succeeded', 10_000)).toBe(true);
    expect((await orderOf(buyer, order.id)).status).toBe('complete');
    expect(intent?.status).toBe('succeeded');
    expect(stripe.requests.filter((r) => r.path === `/v1/payment_intents/${intent?.id}/capture`)).toHaveLength(1);
    // The buyer's browser comes back afterwards and is told the outcome.
    const refreshed = await api.post(`/payments/${res.body.payment.id}/refresh`, {}, buyer.accessToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.order.status).toBe('complete');
  });

  test('a failed challenge: payment_intent.payment_failed fails the payment, and the order stays payable', async () => {
    const { buyer, order } = await checkout(api);
    await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_threeDSecureRequired' });

    stripe.authenticate(intentOf(order.id)?.id ?? '', 'fail');

    expect(await eventually(async () => (await paymentOf(buyer, order.id))?.status === 'failed', 10_000)).toBe(true);
    expect((await orderOf(buyer, order.id)).status).toBe('pending');
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);
  });

  test('an intent cancelled at Stripe while the buyer is away: payment_intent.canceled fails the payment (409 payment_canceled)', async () => {
    const { buyer, order } = await checkout(api);
    const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });

    await dashboard.paymentIntents.cancel(intentOf(order.id)?.id ?? '');

    expect(await eventually(async () => (await paymentOf(buyer, order.id))?.status === 'failed', 10_000)).toBe(true);
    const refreshed = await api.post(`/payments/${started.body.payment.id}/refresh`, {}, buyer.accessToken);
    expect(refreshed.status).toBe(409);
    expect(refreshed.body.code).toBe('payment_canceled');
    expect((await orderOf(buyer, order.id)).status).toBe('pending');
  });

  describe('signatures', () => {
    /** A genuine event of a payment waiting for its buyer, as Stripe would send it once the buyer passed. */
    async function waitingPaymentAndItsEvent() {
      const { buyer, order } = await checkout(api);
      const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
      const intent = intentOf(order.id) as FakeIntent;
      // What Stripe would say after the challenge, while the real intent still waits: if the gateway
      // obeyed the message itself, the order would be completed.
      const payload = JSON.stringify({
        id: `evt_forged_${intent.id}`,
        object: 'event',
        api_version: STRIPE_API_VERSION,
        created: Math.floor(Date.now() / 1000),
        type: 'payment_intent.amount_capturable_updated',
        data: { object: { ...intent, status: 'requires_capture', amount_capturable: intent.amount } },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
      });
      return { buyer, order, payment: started.body.payment as { id: string }, payload };
    }
    const post = (payload: string, signature?: string) =>
      api.request('POST', '/webhooks/stripe', { rawBody: payload, headers: signature === undefined ? {} : { 'stripe-signature': signature } });

    test('a wrong secret, an altered body, an old timestamp or no signature is a 400 that changes nothing', async () => {
      const { buyer, order, payload } = await waitingPaymentAndItsEvent();
      const now = Math.floor(Date.now() / 1000);
      const sign = (body: string, secret = WEBHOOK_SECRET, timestamp = now) => Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });

      const answers = [
        await post(payload, sign(payload, 'whsec_someone_else_entirely_123')),
        await post(payload.replace('"livemode":false', '"livemode":true'), sign(payload)),
        await post(payload, sign(payload, WEBHOOK_SECRET, now - 301)),
        await post(payload),
        await post(payload, 'nonsense'),
      ];

      expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
      expect(answers.map((a) => a.body.code)).toEqual(Array(5).fill('invalid_signature'));
      expect((await paymentOf(buyer, order.id)).status).toBe('requires_action');
      expect((await orderOf(buyer, order.id)).status).toBe('pending');
      expect(intentOf(order.id)?.status).toBe('requires_action');
    });

    test('a correctly signed event is not obeyed for what it says: the intent is read back from Stripe, and it still waits', async () => {
      const { buyer, order, payload } = await waitingPaymentAndItsEvent();

      const res = await post(payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
      expect((await paymentOf(buyer, order.id)).status).toBe('requires_action');
      expect((await orderOf(buyer, order.id)).status).toBe('pending');
    });

    test('webhooks are not counted against a client: a burst from one address is received, not rate limited', async () => {
      const { payload } = await waitingPaymentAndItsEvent();
      const limited = Number(stack.env.RATE_LIMIT_MAX ?? 5);
      // A limit of 100000 per client in tests; a burst past the gateway's real default (5) is what matters.
      const burst = await Promise.all(Array.from({ length: Math.min(limited, 12) }, () => post(payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }))));
      expect(burst.every((r) => r.status === 200)).toBe(true);
      expect(burst[0]?.headers.get('ratelimit')).toMatch(/limit=600/);
    });
  });

  test('each event is handled once by its id: a redelivery is received and changes nothing', async () => {
    const { buyer, order } = await checkout(api);
    await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
    const intent = intentOf(order.id) as FakeIntent;
    stripe.authenticate(intent.id, 'fail');
    expect(await eventually(async () => (await paymentOf(buyer, order.id))?.status === 'failed', 10_000)).toBe(true);
    await stripe.settled();
    const [failed] = eventsOf('payment_intent.payment_failed', intent.id);
    const stripeCallsBefore = stripe.requests.length;

    const status = await stripe.deliver(failed?.id ?? '');

    expect(status).toBe(200);
    // Handled anew, an event about a failed payment makes payments-service read the intent back (a
    // late hold is let go); a duplicate is answered from the record of handled events instead.
    expect(stripe.requests.length).toBe(stripeCallsBefore);
    const rows = await stack.services.payments?.parts.db('provider_events').where({ id: failed?.id });
    expect(rows).toHaveLength(1);
    expect(rows?.[0]).toMatchObject({ state: 'done' });
  });

  describe('refunds', () => {
    test('an admin refunds a sale: 200, the payment and the order are refunded, and asking again refunds nothing more', async () => {
      const events = await recordEvents(stack, ['payment.*', 'order.refunded']);
      try {
        const { buyer, order, payment } = await sale();

        const res = await api.post(`/payments/${payment.id}/refund`, {}, admin.accessToken);
        const again = await api.post(`/payments/${payment.id}/refund`, {}, admin.accessToken);

        expect(res.status).toBe(200);
        expect(res.body.payment).toMatchObject({ id: payment.id, status: 'refunded', refundStatus: 'succeeded' });
        expect(res.body.order).toMatchObject({ id: order.id, status: 'refunded' });
        expect(again.status).toBe(200);
        expect(again.body.payment.status).toBe('refunded');
        expect(stripe.refunds.filter((r) => r.payment_intent === payment.providerRef)).toHaveLength(1);
        expect((await orderOf(buyer, order.id)).status).toBe('refunded');
        expect(await eventually(async () => events.seen.some((e) => e.type === 'order.refunded'))).toBe(true);
        // The charge.refunded webhook that follows changes nothing more.
        await stripe.settled();
        expect(events.seen.filter((e) => e.type === 'payment.refunded' && (e.payload as { payment: { id: string } }).payment.id === payment.id)).toHaveLength(1);
      } finally {
        await events.stop();
      }
    });

    test('only an admin can refund; a payment that did not succeed cannot be refunded; an unknown one is 404', async () => {
      const { buyer, payment } = await sale();
      const { buyer: other, order: unpaid } = await checkout(api);
      const declined = await pay(api, other, { orderId: unpaid.id, paymentMethod: 'pm_card_chargeDeclined' });
      expect(declined.status).toBe(402);
      const failed = await paymentOf(other, unpaid.id);

      expect((await api.post(`/payments/${payment.id}/refund`, {}, buyer.accessToken)).status).toBe(403);
      expect((await api.post(`/payments/${payment.id}/refund`, {})).status).toBe(401);
      const notRefundable = await api.post(`/payments/${failed.id}/refund`, {}, admin.accessToken);
      expect(notRefundable.status).toBe(409);
      expect(notRefundable.body.code).toBe('payment_not_refundable');
      expect((await api.post('/payments/00000000-0000-4000-8000-000000000000/refund', {}, admin.accessToken)).status).toBe(404);
      expect(stripe.refunds.filter((r) => r.payment_intent === payment.providerRef)).toHaveLength(0);
    });

    test('a refund pending at Stripe answers 202; the webhook finishes it and the order follows', async () => {
      const { buyer, order, payment } = await sale();
      stripe.refundOutcome = 'pending';
      let res;
      try {
        res = await api.post(`/payments/${payment.id}/refund`, {}, admin.accessToken);
      } finally {
        stripe.refundOutcome = 'succeeded';
      }

      expect(res.status).toBe(202);
      expect(res.body.payment).toMatchObject({ status: 'succeeded', refundStatus: 'pending' });
      expect(res.body.order.status).toBe('complete');

      const refund = stripe.refunds.find((r) => r.payment_intent === payment.providerRef);
      stripe.settleRefund(refund?.id ?? '', 'succeeded');

      expect(await eventually(async () => (await paymentOf(buyer, order.id))?.status === 'refunded', 10_000)).toBe(true);
      expect(await eventually(async () => (await orderOf(buyer, order.id)).status === 'refunded', 10_000)).toBe(true);
    });

    test('a refund that fails at Stripe is recorded and announced (payment.refund_failed); the sale stands', async () => {
      const events = await recordEvents(stack, ['payment.refund_failed']);
      try {
        const { buyer, order, payment } = await sale();
        stripe.refundOutcome = 'pending';
        try {
          expect((await api.post(`/payments/${payment.id}/refund`, {}, admin.accessToken)).status).toBe(202);
        } finally {
          stripe.refundOutcome = 'succeeded';
        }

        stripe.settleRefund(stripe.refunds.find((r) => r.payment_intent === payment.providerRef)?.id ?? '', 'failed');

        expect(await eventually(async () => (await paymentOf(buyer, order.id))?.refundStatus === 'failed', 10_000)).toBe(true);
        expect(await eventually(async () => events.seen.length === 1)).toBe(true);
        expect(events.seen[0]?.payload).toMatchObject({ payment: { id: payment.id, refundStatus: 'failed' }, reason: 'expired_or_canceled_card' });
        expect((await paymentOf(buyer, order.id)).status).toBe('succeeded');
        expect((await orderOf(buyer, order.id)).status).toBe('complete');
      } finally {
        await events.stop();
      }
    });

    test('a refund made at Stripe\'s dashboard reaches the payment and the order by the webhook', async () => {
      const { buyer, order, payment } = await sale();

      await dashboard.refunds.create({ payment_intent: payment.providerRef });

      expect(await eventually(async () => (await paymentOf(buyer, order.id))?.status === 'refunded', 10_000)).toBe(true);
      expect(await eventually(async () => (await orderOf(buyer, order.id)).status === 'refunded', 10_000)).toBe(true);
    });
  });

  test('a dispute (chargeback) is recorded on the payment and announced as payment.disputed', async () => {
    const events = await recordEvents(stack, ['payment.disputed']);
    try {
      const { buyer, order, payment } = await sale();

      const dispute = stripe.dispute(payment.providerRef, 'fraudulent');

      expect(await eventually(async () => (await paymentOf(buyer, order.id))?.disputeStatus === 'needs_response', 10_000)).toBe(true);
      expect(await eventually(async () => events.seen.length === 1)).toBe(true);
      expect(events.seen[0]?.payload).toMatchObject({ payment: { id: payment.id }, dispute: { id: dispute.id, reason: 'fraudulent', amount: 4200 } });
    } finally {
      await events.stop();
    }
  });
});
