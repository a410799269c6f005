import { type FakeStripe, IDEMPOTENCY_KEY_TTL_MS, startFakeStripe, VALID_KEY } from './fake-stripe';

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
      await new Promise((resolve) => setTimeout(resolve, 100));

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
});
