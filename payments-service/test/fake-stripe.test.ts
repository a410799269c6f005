import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { eventually } from '../../test/support/wait';
import { STRIPE_AUTHENTICATION_TEST_METHODS } from '../src/providers/stripe-test-cards';
import { FAKE_API_VERSION, type FakeStripe, IDEMPOTENCY_KEY_TTL_MS, startFakeStripe, VALID_KEY, type FakeWebhook } from './fake-stripe';

/* ------------------------------------------------------------------------------------------------
 * The stand-in for Stripe answers as Stripe does: one test per rule of Stripe's that a simpler fake
 * would get wrong, on the wire (raw HTTP), with Stripe's documented values written out here.
 * ---------------------------------------------------------------------------------------------- */

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

describe('the Stripe stand-in', () => {
  let stripe: FakeStripe;
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse('2026-11-02T10:00:00Z');
    stripe = await startFakeStripe({ now: () => clock, searchLagMs: 30_000 });
  });
  afterEach(() => stripe.close());

  async function call(method: 'GET' | 'POST', path: string, params: Record<string, string> = {}, key?: string): Promise<Answer> {
    const form = new URLSearchParams(params).toString();
    const url = `http://127.0.0.1:${stripe.port}${path}${method === 'GET' && form ? `?${form}` : ''}`;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${VALID_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      ...(method === 'POST' ? { body: form } : {}),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
  }

  const intentParams = (overrides: Record<string, string> = {}): Record<string, string> => ({
    amount: '4250',
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
    capture_method: 'manual',
    'metadata[orderId]': 'order-1',
    ...overrides,
  });

  /** The official SDK, pointed at the stand-in: what the adapter uses. No retries, so every call is one request. */
  const sdk = (fake: FakeStripe = stripe): Stripe =>
    new Stripe(VALID_KEY, { apiVersion: FAKE_API_VERSION, host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });

  const createParams = (overrides: Partial<Stripe.PaymentIntentCreateParams> = {}): Stripe.PaymentIntentCreateParams => ({
    amount: 4250,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    capture_method: 'manual',
    metadata: { orderId: 'order-1' },
    ...overrides,
  });

  async function cardErrorOf(pending: Promise<unknown>): Promise<Stripe.errors.StripeCardError> {
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof Stripe.errors.StripeCardError)) throw new Error(`expected a card error, got ${String(err)}`);
    return err;
  }

  describe('idempotency keys', () => {
    test('a 500 is stored under its key and replayed for that key, marked Idempotent-Replayed', async () => {
      stripe.inject('http500');

      const first = await call('POST', '/v1/payment_intents', intentParams(), 'k-500');
      clock += IDEMPOTENCY_KEY_TTL_MS - 60_000;
      const again = await call('POST', '/v1/payment_intents', intentParams(), 'k-500');

      expect(first).toMatchObject({ status: 500, body: { error: { type: 'api_error' } } });
      expect(again.status).toBe(500);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(stripe.intents.size).toBe(0);
    });

    test('a key expires after 24 hours: the same request then runs anew', async () => {
      stripe.inject('http500');
      await call('POST', '/v1/payment_intents', intentParams(), 'k-expiring');
      clock += IDEMPOTENCY_KEY_TTL_MS;

      const later = await call('POST', '/v1/payment_intents', intentParams(), 'k-expiring');

      expect(later.status).toBe(200);
      expect(later.headers.get('idempotent-replayed')).toBeNull();
      expect(later.body).toMatchObject({ object: 'payment_intent', status: 'requires_capture' });
    });

    test('a success is replayed as it was answered, even after the intent has moved on', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams(), 'k-ok');
      await call('POST', `/v1/payment_intents/${created.body.id}/capture`, {}, 'k-capture');

      const replayed = await call('POST', '/v1/payment_intents', intentParams(), 'k-ok');

      expect(replayed.body).toEqual(created.body);
      expect(replayed.body.status).toBe('requires_capture');
      expect(stripe.intents.get(created.body.id)?.status).toBe('succeeded');
    });

    test('the same key with other parameters, or on another endpoint, is a 400 idempotency_error', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams(), 'k-params');

      const otherAmount = await call('POST', '/v1/payment_intents', intentParams({ amount: '9999' }), 'k-params');
      const otherEndpoint = await call('POST', `/v1/payment_intents/${created.body.id}/cancel`, {}, 'k-params');

      for (const answer of [otherAmount, otherEndpoint]) {
        expect(answer.status).toBe(400);
        expect(answer.body.error).toMatchObject({ type: 'idempotency_error', message: expect.stringContaining("Try using a key other than 'k-params'") });
      }
      expect(stripe.intents.size).toBe(1);
      expect(stripe.intents.get(created.body.id)?.status).toBe('requires_capture');
    });

    test('while the first request under a key is still running, the key is a 409 idempotency_key_in_use', async () => {
      stripe.inject({ delayMs: 400 });
      const slow = call('POST', '/v1/payment_intents', intentParams(), 'k-busy');
      expect(await eventually(() => stripe.requests.some((r) => r.idempotencyKey === 'k-busy'))).toBe(true);

      const meanwhile = await call('POST', '/v1/payment_intents', intentParams(), 'k-busy');

      expect(meanwhile.status).toBe(409);
      expect(meanwhile.body.error).toMatchObject({ type: 'invalid_request_error', code: 'idempotency_key_in_use' });
      expect((await slow).status).toBe(200);
      expect(stripe.intents.size).toBe(1);
    });

    test('GET requests ignore keys', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams(), 'k-get');

      const read = await call('GET', `/v1/payment_intents/${created.body.id}`, {}, 'k-get');

      expect(read).toMatchObject({ status: 200, body: { id: created.body.id } });
    });
  });

  describe('parameters', () => {
    test('an unknown parameter is a 400 parameter_unknown naming it, and stores nothing under the key', async () => {
      const refused = await call('POST', '/v1/payment_intents', intentParams({ payment_method_types: 'card' }), 'k-unknown');
      const corrected = await call('POST', '/v1/payment_intents', intentParams(), 'k-unknown');

      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({
        type: 'invalid_request_error',
        code: 'parameter_unknown',
        param: 'payment_method_types',
        message: 'Received unknown parameter: payment_method_types',
      });
      expect(corrected.status).toBe(200);
      expect(stripe.intents.size).toBe(1);
    });

    test('the parameters the adapter sends are all known to the endpoint', async () => {
      const created = await call('POST', '/v1/payment_intents', {
        ...intentParams(),
        'allowed_payment_method_types[0]': 'card',
        error_on_requires_action: 'true',
      });
      const listed = await call('GET', '/v1/payment_intents', { 'created[gte]': '0', limit: '100' });
      const searched = await call('GET', '/v1/payment_intents/search', { query: "metadata['orderId']:'order-1'", limit: '100' });

      expect([created.status, listed.status, searched.status]).toEqual([200, 200, 200]);
      expect(await call('GET', '/v1/refunds', { payment_intent: created.body.id, bogus: '1' })).toMatchObject({ status: 400, body: { error: { code: 'parameter_unknown', param: 'bogus' } } });
    });
  });

  describe("Stripe's declining test payment methods", () => {
    // docs.stripe.com/testing, "Declined payments", with the error each one gets.
    const DECLINES: [string, { code: string; decline_code?: string; message: string }][] = [
      ['pm_card_visa_chargeDeclined', { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }],
      ['pm_card_chargeDeclined', { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }],
      ['pm_card_visa_chargeDeclinedInsufficientFunds', { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' }],
      ['pm_card_chargeDeclinedInsufficientFunds', { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' }],
      ['pm_card_visa_chargeDeclinedLostCard', { code: 'card_declined', decline_code: 'lost_card', message: 'Your card was declined.' }],
      ['pm_card_visa_chargeDeclinedStolenCard', { code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.' }],
      ['pm_card_chargeDeclinedExpiredCard', { code: 'expired_card', message: 'Your card has expired.' }],
      ['pm_card_chargeDeclinedIncorrectCvc', { code: 'incorrect_cvc', message: "Your card's security code is incorrect." }],
      ['pm_card_chargeDeclinedProcessingError', { code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' }],
      [
        'pm_card_visa_chargeDeclinedVelocityLimitExceeded',
        { code: 'card_declined', decline_code: 'card_velocity_exceeded', message: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.' },
      ],
      ['pm_card_chargeDeclinedFraudulent', { code: 'card_declined', decline_code: 'fraudulent', message: 'Your card was declined.' }],
      ['pm_card_radarBlock', { code: 'card_declined', decline_code: 'fraudulent', message: 'Your card was declined.' }],
    ];

    test.each(DECLINES)('%s is a 402 card_error with Stripe\'s code, decline_code and message', async (paymentMethod, expected) => {
      const answer = await call('POST', '/v1/payment_intents', intentParams({ payment_method: paymentMethod }), `k-${paymentMethod}`);

      expect(answer.status).toBe(402);
      const { error } = answer.body;
      expect({ type: error.type, code: error.code, decline_code: error.decline_code, message: error.message }).toEqual({ type: 'card_error', decline_code: undefined, ...expected });
      // Stripe leaves decline_code out altogether where it has none (not null, not '').
      expect('decline_code' in error).toBe(expected.decline_code !== undefined);
      expect(error.payment_intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: expected.code } });
      expect(stripe.intents.get(error.payment_intent.id)?.status).toBe('requires_payment_method');
    });

    test('pm_card_visa authorizes, and like every test method becomes a PaymentMethod of its own', async () => {
      const answer = await call('POST', '/v1/payment_intents', intentParams());

      expect(answer.body).toMatchObject({ status: 'requires_capture', amount_capturable: 4250 });
      expect(answer.body.payment_method).toMatch(/^pm_fake\d+$/);
    });
  });

  describe('refunds', () => {
    test('a refund of an uncaptured intent is refused as Stripe refuses it, and the hold stays', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams());

      const refused = await call('POST', '/v1/refunds', { payment_intent: created.body.id }, 'k-refund-uncaptured');

      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({
        type: 'invalid_request_error',
        message:
          `This uncaptured Charge was created by a PaymentIntent (${created.body.id}). You must cancel the PaymentIntent to reverse the ` +
          'authorization instead of refunding the Charge directly. For more information, see https://stripe.com/docs/payments/place-a-hold-on-a-payment-method',
      });
      expect(stripe.refunds).toEqual([]);
      expect(stripe.intents.get(created.body.id)?.status).toBe('requires_capture');
    });

    test('a declined intent has no successful charge to refund', async () => {
      const declined = await call('POST', '/v1/payment_intents', intentParams({ payment_method: 'pm_card_chargeDeclined' }));
      const id = declined.body.error.payment_intent.id;

      const refused = await call('POST', '/v1/refunds', { payment_intent: id });

      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'payment_intent', message: `This PaymentIntent (${id}) does not have a successful charge to refund.` });
    });

    test('a refund can stay pending; a second full refund is charge_already_refunded while it does', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams());
      await call('POST', `/v1/payment_intents/${created.body.id}/capture`);
      stripe.refundOutcome = 'pending';

      const refund = await call('POST', '/v1/refunds', { payment_intent: created.body.id }, 'k-refund');
      const second = await call('POST', '/v1/refunds', { payment_intent: created.body.id }, 'k-refund-2');
      stripe.settleRefund(refund.body.id, 'succeeded');

      expect(refund.body).toMatchObject({ object: 'refund', status: 'pending', amount: 4250, payment_intent: created.body.id });
      expect(second.body.error).toMatchObject({ code: 'charge_already_refunded' });
      expect(await call('GET', `/v1/refunds/${refund.body.id}`)).toMatchObject({ body: { status: 'succeeded' } });
      // A replay shows the refund as it was answered: pending.
      expect(await call('POST', '/v1/refunds', { payment_intent: created.body.id }, 'k-refund')).toMatchObject({ body: { status: 'pending' } });
    });
  });

  describe('reading intents', () => {
    test('search finds an intent only a while after it was created; list finds it at once', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams({ 'metadata[orderId]': 'order-search' }));
      const query = { query: "metadata['orderId']:'order-search'" };

      const searchedAtOnce = await call('GET', '/v1/payment_intents/search', query);
      const listed = await call('GET', '/v1/payment_intents', { 'created[gte]': String(created.body.created) });
      clock += 30_000;
      const searchedLater = await call('GET', '/v1/payment_intents/search', query);

      expect(searchedAtOnce.body).toMatchObject({ object: 'search_result', data: [] });
      expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([created.body.id]);
      expect(searchedLater.body.data.map((i: { id: string }) => i.id)).toEqual([created.body.id]);
    });

    test('list is newest first, filtered by created, paginated with starting_after', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await call('POST', '/v1/payment_intents', intentParams())).body.id);
        clock += 1000;
      }
      const since = stripe.intents.get(ids[1] as string)?.created ?? 0;

      const page = await call('GET', '/v1/payment_intents', { 'created[gte]': String(since), limit: '1' });
      const next = await call('GET', '/v1/payment_intents', { 'created[gte]': String(since), limit: '1', starting_after: page.body.data[0].id });

      expect(page.body).toMatchObject({ object: 'list', has_more: true, data: [{ id: ids[2] }] });
      expect(next.body).toMatchObject({ has_more: false, data: [{ id: ids[1] }] });
    });

    test('an authorization whose hold ran out is cancelled by Stripe and can no longer be captured', async () => {
      const created = await call('POST', '/v1/payment_intents', intentParams());
      stripe.expire(created.body.id);

      const capture = await call('POST', `/v1/payment_intents/${created.body.id}/capture`, {}, 'k-capture-late');

      expect(capture.status).toBe(400);
      expect(capture.body.error).toMatchObject({ code: 'payment_intent_unexpected_state', payment_intent: { status: 'canceled', cancellation_reason: 'automatic' } });
    });
  });

  describe('cards that need the buyer (3-D Secure)', () => {
    test('every intent carries its client secret, and no next action when it needs none', async () => {
      const created = await sdk().paymentIntents.create(createParams());

      expect(created.client_secret).toMatch(new RegExp(`^${created.id}_secret_[A-Za-z0-9]+$`));
      expect(created.next_action).toBeNull();
    });

    test.each(Object.keys(STRIPE_AUTHENTICATION_TEST_METHODS))('%s leaves the intent in requires_action, for Stripe.js, holding nothing yet', async (paymentMethod) => {
      const client = sdk();

      const created = await client.paymentIntents.create(createParams({ payment_method: paymentMethod }));

      expect(created).toMatchObject({ status: 'requires_action', amount_capturable: 0, latest_charge: null, last_payment_error: null });
      expect(created.next_action).toEqual({
        type: 'use_stripe_sdk',
        use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: expect.stringMatching(/^https:\/\/hooks\.stripe\.com\/.+src_client_secret_/), source: expect.stringMatching(/^src_/) },
      });
      expect(created.client_secret).toMatch(new RegExp(`^${created.id}_secret_`));
      // Read back with a secret key, as the adapter does: the client secret comes with it.
      expect(await client.paymentIntents.retrieve(created.id)).toMatchObject({ status: 'requires_action', client_secret: created.client_secret });
    });

    test('cards that need authentication only off-session or only if asked (…OnSetup, …Optional) authorize a one-off payment at once', async () => {
      const client = sdk();

      const onSetup = await client.paymentIntents.create(createParams({ payment_method: 'pm_card_authenticationRequiredOnSetup' }));
      const optional = await client.paymentIntents.create(createParams({ payment_method: 'pm_card_threeDSecureOptional' }));

      expect([onSetup.status, optional.status]).toEqual(['requires_capture', 'requires_capture']);
    });

    test('with error_on_requires_action, Stripe declines instead: a 402 authentication_required card error', async () => {
      const err = await cardErrorOf(sdk().paymentIntents.create(createParams({ payment_method: 'pm_card_authenticationRequired', error_on_requires_action: true })));

      expect(err).toMatchObject({
        statusCode: 402,
        code: 'authentication_required',
        decline_code: 'authentication_required',
        message: 'Your card was declined. This transaction requires authentication.',
      });
      expect(err.payment_intent).toMatchObject({
        status: 'requires_payment_method',
        next_action: null,
        last_payment_error: { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required' },
      });
    });

    test('the buyer completes 3-D Secure: the intent holds the amount, and captures', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams({ payment_method: 'pm_card_threeDSecureRequired' }));

      stripe.authenticate(created.id, 'complete');
      const authorized = await client.paymentIntents.retrieve(created.id);
      const captured = await client.paymentIntents.capture(created.id);

      expect(authorized).toMatchObject({ status: 'requires_capture', amount_capturable: 4250, next_action: null, latest_charge: expect.stringMatching(/^ch_/) });
      expect(captured).toMatchObject({ status: 'succeeded', amount_received: 4250 });
      expect(() => stripe.authenticate(created.id, 'complete')).toThrow(/not waiting for the buyer/);
    });

    test('the buyer fails 3-D Secure: requires_payment_method, with payment_intent_authentication_failure and no charge', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams({ payment_method: 'pm_card_authenticationRequired' }));

      stripe.authenticate(created.id, 'fail');
      const failed = await client.paymentIntents.retrieve(created.id);

      expect(failed).toMatchObject({ status: 'requires_payment_method', next_action: null, latest_charge: null, amount_capturable: 0 });
      // Stripe's words on the intent, as its iOS and Android SDKs' fixtures record them (Stripe.js shows the buyer its own).
      expect(failed.last_payment_error).toMatchObject({
        type: 'invalid_request_error',
        code: 'payment_intent_authentication_failure',
        message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
        doc_url: 'https://stripe.com/docs/error-codes/payment-intent-authentication-failure',
      });
      expect(failed.last_payment_error?.decline_code).toBeUndefined();
    });

    test('a card that declines after authentication: the buyer completes 3-D Secure and the payment is declined all the same', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams({ payment_method: 'pm_card_authenticationRequiredChargeDeclinedInsufficientFunds' }));

      stripe.authenticate(created.id, 'complete');
      const declined = await client.paymentIntents.retrieve(created.id);

      expect(declined).toMatchObject({
        status: 'requires_payment_method',
        amount_capturable: 0,
        last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.', charge: declined.latest_charge },
      });
      expect(declined.latest_charge).toMatch(/^ch_/);
      expect(await client.paymentIntents.capture(created.id).catch((e: unknown) => e)).toMatchObject({ code: 'payment_intent_unexpected_state' });
    });

    test('an intent still waiting for the buyer can be cancelled', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams({ payment_method: 'pm_card_threeDSecure2Required' }));

      const canceled = await client.paymentIntents.cancel(created.id);

      expect(canceled).toMatchObject({ status: 'canceled', next_action: null });
      expect(stripe.events.map((e) => e.type)).toEqual(['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.canceled']);
    });
  });

  describe('events', () => {
    const typesOf = (fake: FakeStripe = stripe): string[] => fake.events.map((e) => e.type);

    test('a payment created and captured: created, amount_capturable_updated, succeeded, each with a snapshot and its request', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams(), { idempotencyKey: 'k-events-create' });
      const captured = await client.paymentIntents.capture(created.id, {}, { idempotencyKey: 'k-events-capture' });

      expect(typesOf()).toEqual(['payment_intent.created', 'payment_intent.amount_capturable_updated', 'payment_intent.succeeded']);
      const [first, held, done] = stripe.events;
      expect(first).toEqual({
        id: expect.stringMatching(/^evt_/),
        object: 'event',
        api_version: '2026-10-28.endive',
        created: Math.floor(clock / 1000),
        data: { object: expect.objectContaining({ id: created.id, object: 'payment_intent' }) },
        livemode: false,
        pending_webhooks: 0,
        request: { id: created.lastResponse.requestId, idempotency_key: 'k-events-create' },
        type: 'payment_intent.created',
      });
      expect(created.lastResponse.requestId).toMatch(/^req_/);
      // Each event keeps the object as it was then, whatever happened to it since.
      expect(held?.data.object).toMatchObject({ status: 'requires_capture', amount_capturable: 4250 });
      expect(held?.request).toEqual({ id: created.lastResponse.requestId, idempotency_key: 'k-events-create' });
      expect(done?.data.object).toMatchObject({ status: 'succeeded', amount_received: 4250 });
      expect(done?.request).toEqual({ id: captured.lastResponse.requestId, idempotency_key: 'k-events-capture' });
    });

    test('a replayed request changes nothing, so records no event; a decline is payment_failed', async () => {
      const client = sdk();
      await client.paymentIntents.create(createParams(), { idempotencyKey: 'k-events-replay' });
      await client.paymentIntents.create(createParams(), { idempotencyKey: 'k-events-replay' });
      await cardErrorOf(client.paymentIntents.create(createParams({ payment_method: 'pm_card_chargeDeclined' })));

      expect(typesOf()).toEqual(['payment_intent.created', 'payment_intent.amount_capturable_updated', 'payment_intent.created', 'payment_intent.payment_failed']);
      expect(stripe.events[3]?.data.object).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined' } });
    });

    test('3-D Secure: requires_action, then payment_failed when the buyer fails it, from no request of the merchant', async () => {
      const created = await sdk().paymentIntents.create(createParams({ payment_method: 'pm_card_authenticationRequired' }));
      stripe.authenticate(created.id, 'fail');

      expect(typesOf()).toEqual(['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.payment_failed']);
      expect(stripe.events[1]?.data.object).toMatchObject({ status: 'requires_action', next_action: { type: 'use_stripe_sdk' } });
      expect(stripe.events[2]).toMatchObject({
        request: { id: null, idempotency_key: null },
        data: { object: { status: 'requires_payment_method', last_payment_error: { code: 'payment_intent_authentication_failure' } } },
      });
    });

    test('a refund that succeeds at once: charge.refunded, with the charge fully refunded', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams());
      await client.paymentIntents.capture(created.id);

      const refund = await client.refunds.create({ payment_intent: created.id }, { idempotencyKey: 'k-events-refund' });

      expect(typesOf().slice(3)).toEqual(['charge.refunded']);
      expect(stripe.events[3]).toMatchObject({
        request: { id: refund.lastResponse.requestId, idempotency_key: 'k-events-refund' },
        data: { object: { object: 'charge', id: created.latest_charge, payment_intent: created.id, amount_captured: 4250, amount_refunded: 4250, refunded: true } },
      });
    });

    test('a pending refund: charge.refund.updated and refund.updated as it settles, then charge.refunded; a failed one, refund.failed', async () => {
      const client = sdk();
      const intentIds: string[] = [];
      for (let i = 0; i < 2; i++) {
        const created = await client.paymentIntents.create(createParams());
        await client.paymentIntents.capture(created.id);
        intentIds.push(created.id);
      }
      stripe.refundOutcome = 'pending';
      const goesThrough = await client.refunds.create({ payment_intent: intentIds[0] as string });
      const fails = await client.refunds.create({ payment_intent: intentIds[1] as string });
      const before = stripe.events.length;

      stripe.settleRefund(goesThrough.id, 'succeeded');
      stripe.settleRefund(fails.id, 'failed');

      expect(typesOf().slice(before)).toEqual(['charge.refund.updated', 'refund.updated', 'charge.refunded', 'charge.refund.updated', 'refund.updated', 'refund.failed']);
      const settled = stripe.events.slice(before);
      expect(settled[1]?.data.object).toMatchObject({ object: 'refund', id: goesThrough.id, status: 'succeeded' });
      expect(settled[2]?.data.object).toMatchObject({ object: 'charge', payment_intent: intentIds[0], amount_refunded: 4250, refunded: true });
      expect(settled[5]?.data.object).toMatchObject({ object: 'refund', id: fails.id, status: 'failed', failure_reason: 'expired_or_canceled_card' });
    });

    test('an authorization that expires: payment_intent.canceled, cancellation_reason automatic', async () => {
      const created = await sdk().paymentIntents.create(createParams());

      stripe.expire(created.id);

      expect(typesOf().at(-1)).toBe('payment_intent.canceled');
      expect(stripe.events.at(-1)).toMatchObject({ request: { id: null, idempotency_key: null }, data: { object: { id: created.id, status: 'canceled', cancellation_reason: 'automatic' } } });
    });

    test('a dispute of a captured payment: charge.dispute.created, a dispute that needs a response', async () => {
      const client = sdk();
      const created = await client.paymentIntents.create(createParams());
      expect(() => stripe.dispute(created.id)).toThrow(/no captured charge/);
      await client.paymentIntents.capture(created.id);

      const dispute = stripe.dispute(created.id);

      expect(typesOf().at(-1)).toBe('charge.dispute.created');
      expect(stripe.events.at(-1)?.data.object).toEqual(dispute);
      expect(dispute).toMatchObject({
        id: expect.stringMatching(/^dp_/),
        object: 'dispute',
        amount: 4250,
        currency: 'usd',
        charge: created.latest_charge,
        payment_intent: created.id,
        reason: 'fraudulent',
        status: 'needs_response',
        created: Math.floor(clock / 1000),
      });
    });
  });

  describe('webhook delivery', () => {
    interface Received {
      headers: IncomingHttpHeaders;
      body: string;
    }
    const SECRET = 'whsec_fake_test_secret';
    const closing: (() => Promise<void>)[] = [];
    afterEach(async () => {
      await Promise.all(closing.splice(0).map((close) => close()));
    });

    /** A webhook endpoint: records what it receives and answers the status `statusOf` gives (the nth request, from 0). */
    async function startReceiver(statusOf: (n: number) => number = () => 200): Promise<{ webhook: FakeWebhook; received: Received[] }> {
      const received: Received[] = [];
      const server = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          const status = statusOf(received.length);
          received.push({ headers: req.headers, body });
          res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      closing.push(
        () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      );
      return { webhook: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`, secret: SECRET }, received };
    }

    test('each event reaches the endpoint, signed so that stripe.webhooks.constructEvent accepts it, and only with the right secret', async () => {
      const { webhook, received } = await startReceiver();
      stripe.webhook = webhook;
      const client = sdk();

      const created = await client.paymentIntents.create(createParams());
      await stripe.settled();

      expect(received).toHaveLength(2);
      expect(stripe.deliveries).toEqual(expect.arrayContaining(stripe.events.map((e) => ({ eventId: e.id, status: 200 }))));
      expect(stripe.deliveries).toHaveLength(2);
      // Stripe does not promise order: match them by id.
      for (const { headers, body } of received) {
        expect(headers['content-type']).toBe('application/json; charset=utf-8');
        expect(headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
        const signature = headers['stripe-signature'] as string;
        expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        const event = client.webhooks.constructEvent(body, signature, SECRET);
        expect(event).toEqual(stripe.events.find((e) => e.id === event.id));
        expect(event).toMatchObject({ pending_webhooks: 1, data: { object: { id: created.id } } });
        expect(() => client.webhooks.constructEvent(body, signature, 'whsec_someone_else')).toThrow(Stripe.errors.StripeSignatureVerificationError);
        expect(() => client.webhooks.constructEvent(body.replace('4250', '1'), signature, SECRET)).toThrow(Stripe.errors.StripeSignatureVerificationError);
      }
    });

    test('an endpoint that answers 500 gets the event again, until it answers 2xx', async () => {
      const { webhook, received } = await startReceiver((n) => (n === 0 ? 500 : 200));
      const fake = await startFakeStripe({ webhook });
      closing.push(() => fake.close());

      await sdk(fake).paymentIntents.create(createParams({ confirm: false }));

      expect(await eventually(async () => fake.deliveries.length === 2, 5_000, 20)).toBe(true);
      await fake.settled();
      const [event] = fake.events;
      expect(fake.deliveries).toEqual([
        { eventId: event?.id, status: 500 },
        { eventId: event?.id, status: 200 },
      ]);
      expect(received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([event?.id, event?.id]);
    });

    test('deliver() sends an event again now, and answers the endpoint\'s status', async () => {
      const { webhook, received } = await startReceiver((n) => (n === 0 ? 200 : 204));
      stripe.webhook = webhook;
      await sdk().paymentIntents.create(createParams({ confirm: false }));
      await stripe.settled();
      const [event] = stripe.events;

      expect(await stripe.deliver(event?.id as string)).toBe(204);
      expect(received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([event?.id, event?.id]);
      expect(stripe.deliveries).toEqual([
        { eventId: event?.id, status: 200 },
        { eventId: event?.id, status: 204 },
      ]);
    });

    test('close() drops the retries still to come rather than wait for them', async () => {
      const { webhook } = await startReceiver(() => 503);
      const fake = await startFakeStripe({ webhook, webhookRetryDelaysMs: [10_000] });
      closing.push(() => fake.close());
      await sdk(fake).paymentIntents.create(createParams({ confirm: false }));
      expect(await eventually(async () => fake.deliveries.length === 1, 5_000, 10)).toBe(true);

      const startedClosing = Date.now();
      await fake.close();

      expect(Date.now() - startedClosing).toBeLessThan(5_000);
      await fake.settled();
      expect(fake.deliveries).toEqual([{ eventId: fake.events[0]?.id, status: 503 }]);
    });
  });
});
