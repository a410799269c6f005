import { AppError } from '@market/common';
import { createStripeProvider, type StripeProviderOptions } from '../src/providers/stripe-provider';
import type { AuthorizeRequest, PaymentProvider } from '../src/providers/payment-provider';
import { type FakeStripe, startFakeStripe, VALID_KEY } from './fake-stripe';

/* ------------------------------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------------------------------- */

function request(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    amountCents: 4_250,
    currency: 'usd',
    paymentMethod: 'pm_card_visa',
    idempotencyKey: 'order-7f3a:authorize',
    orderId: 'order-7f3a',
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail, but it succeeded');
    },
    (err: unknown) => err,
  );
}

/* ------------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------------- */

describe('stripe payment provider against a local fake of the Stripe API', () => {
  let stripe: FakeStripe;
  let provider: PaymentProvider;

  function providerFor(overrides: Partial<StripeProviderOptions> = {}): PaymentProvider {
    return createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 5_000, ...overrides });
  }

  async function authorizedRef(key = 'order-7f3a:authorize'): Promise<string> {
    const result = await provider.authorize(request({ idempotencyKey: key }));
    if (result.status !== 'authorized') throw new Error(`expected an authorization, got ${result.status}`);
    return result.providerRef;
  }

  beforeEach(async () => {
    stripe = await startFakeStripe();
    provider = providerFor();
  });

  afterEach(async () => {
    await stripe.close();
  });

  it('calls itself stripe', () => {
    expect(provider.name).toBe('stripe');
  });

  describe('authorize', () => {
    it('creates and confirms a manual-capture PaymentIntent with the amount in cents, the currency, the order id and the idempotency key', async () => {
      const result = await provider.authorize(request());

      expect(stripe.requests).toHaveLength(1);
      const [sent] = stripe.requests;
      expect(sent).toMatchObject({ method: 'POST', path: '/v1/payment_intents', idempotencyKey: 'order-7f3a:authorize' });
      expect(sent?.body).toEqual({
        amount: '4250',
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
        capture_method: 'manual',
        'allowed_payment_method_types[0]': 'card',
        error_on_requires_action: 'true',
        'metadata[orderId]': 'order-7f3a',
      });
      const [intent] = [...stripe.intents.values()];
      expect(result).toEqual({ status: 'authorized', providerRef: intent?.id });
      expect(intent?.status).toBe('requires_capture');
    });

    it('reports a card decline as a declined result carrying Stripe\'s decline code, message and intent id', async () => {
      const result = await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));

      const [intent] = [...stripe.intents.values()];
      expect(result).toEqual({ status: 'declined', providerRef: intent?.id, declineCode: 'generic_decline', message: 'Your card was declined.' });
      expect(stripe.requests).toHaveLength(1);
    });

    it('retries after an HTTP 500 with the same idempotency key and ends up with exactly one intent', async () => {
      stripe.inject('http500');

      const result = await provider.authorize(request());

      expect(stripe.requests.map((r) => [r.path, r.idempotencyKey])).toEqual([
        ['/v1/payment_intents', 'order-7f3a:authorize'],
        ['/v1/payment_intents', 'order-7f3a:authorize'],
      ]);
      expect(stripe.intents.size).toBe(1);
      expect(result).toEqual({ status: 'authorized', providerRef: [...stripe.intents.keys()][0] });
    });

    it('recovers the original intent when the response to a successful create is lost, without charging twice', async () => {
      stripe.inject('drop-response');

      const result = await provider.authorize(request());

      expect(stripe.requests).toHaveLength(2);
      expect(stripe.requests[1]?.idempotencyKey).toBe(stripe.requests[0]?.idempotencyKey);
      expect(stripe.intents.size).toBe(1);
      expect(result).toEqual({ status: 'authorized', providerRef: [...stripe.intents.keys()][0] });
    });

    it('creates exactly one intent when authorize is called twice with the same key', async () => {
      const first = await provider.authorize(request());
      const second = await provider.authorize(request());

      expect(second).toEqual(first);
      expect(stripe.requests).toHaveLength(2);
      expect(stripe.intents.size).toBe(1);
    });

    it('turns a key reused with a different amount into 409 idempotency_key_reused', async () => {
      await provider.authorize(request());

      const err = await rejection(provider.authorize(request({ amountCents: 9_999 })));

      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 409, code: 'idempotency_key_reused' });
      expect(stripe.intents.size).toBe(1);
    });

    it('rejects a fractional amount with a 400 without calling Stripe', async () => {
      const err = await rejection(provider.authorize(request({ amountCents: 42.5 })));

      expect(err).toMatchObject({ status: 400, code: 'invalid_amount' });
      expect(stripe.requests).toHaveLength(0);
    });
  });

  describe('capture, cancel and refund', () => {
    it('captures through POST /v1/payment_intents/:id/capture with the idempotency key', async () => {
      const ref = await authorizedRef();

      await provider.capture(ref, 'order-7f3a:capture');

      expect(stripe.requests.at(-1)).toEqual({ method: 'POST', path: `/v1/payment_intents/${ref}/capture`, body: {}, idempotencyKey: 'order-7f3a:capture' });
      expect(stripe.intents.get(ref)?.status).toBe('succeeded');
    });

    it('cancels through POST /v1/payment_intents/:id/cancel with the idempotency key', async () => {
      const ref = await authorizedRef();

      await provider.cancel(ref, 'order-7f3a:cancel');

      expect(stripe.requests.at(-1)).toEqual({ method: 'POST', path: `/v1/payment_intents/${ref}/cancel`, body: {}, idempotencyKey: 'order-7f3a:cancel' });
      expect(stripe.intents.get(ref)?.status).toBe('canceled');
    });

    it('treats cancelling an already cancelled intent under a new key as success', async () => {
      const ref = await authorizedRef();
      await provider.cancel(ref, 'order-7f3a:cancel');

      await expect(provider.cancel(ref, 'order-7f3a:cancel:second')).resolves.toBeUndefined();

      const cancels = stripe.requests.filter((r) => r.path.endsWith('/cancel'));
      expect(cancels.map((r) => r.idempotencyKey)).toEqual(['order-7f3a:cancel', 'order-7f3a:cancel:second']);
      expect(stripe.intents.get(ref)?.status).toBe('canceled');
    });

    it('refuses to capture a cancelled intent with 409 payment_intent_unexpected_state', async () => {
      const ref = await authorizedRef();
      await provider.cancel(ref, 'order-7f3a:cancel');

      const err = await rejection(provider.capture(ref, 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 409, code: 'payment_intent_unexpected_state' });
      expect(stripe.requests.at(-1)?.path).toBe(`/v1/payment_intents/${ref}/capture`);
      expect(stripe.intents.get(ref)?.status).toBe('canceled');
    });

    it('refunds a captured intent in full through POST /v1/refunds with the idempotency key', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');

      await provider.refund(ref, 'order-7f3a:refund');

      expect(stripe.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/refunds', body: { payment_intent: ref }, idempotencyKey: 'order-7f3a:refund' });
      expect(stripe.refunds).toEqual([expect.objectContaining({ payment_intent: ref, amount: 4_250 })]);
    });

    it('treats refunding an already refunded intent under a new key as success without a second refund', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');
      await provider.refund(ref, 'order-7f3a:refund');

      await expect(provider.refund(ref, 'order-7f3a:refund:second')).resolves.toBeUndefined();

      expect(stripe.requests.filter((r) => r.path === '/v1/refunds')).toHaveLength(2);
      expect(stripe.refunds).toHaveLength(1);
    });
  });

  describe('failures', () => {
    it('turns a rejected API key into AppError 502 without repeating the request or leaking the key', async () => {
      const err = await rejection(providerFor({ secretKey: 'sk_test_wrong' }).authorize(request()));

      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect((err as AppError).detail).not.toMatch(/sk_test|API Key/i);
      expect(stripe.requests).toHaveLength(1);
      expect(stripe.intents.size).toBe(0);
    });

    it('turns HTTP 500 on every attempt into AppError 502 after the SDK has retried twice with the same key', async () => {
      stripe.inject('http500', 'http500', 'http500');

      const err = await rejection(provider.capture('pi_fake000001', 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect(stripe.requests.map((r) => r.idempotencyKey)).toEqual(['order-7f3a:capture', 'order-7f3a:capture', 'order-7f3a:capture']);
    });

    it('turns an unreachable server into AppError 502 quickly', async () => {
      const closedPort = stripe.port;
      await stripe.close();
      const unreachable = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: closedPort, protocol: 'http', timeoutMs: 500, maxNetworkRetries: 0 });
      const started = Date.now();

      const err = await rejection(unreachable.authorize(request()));

      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect((err as AppError).detail).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      expect(Date.now() - started).toBeLessThan(2_000);
      stripe = await startFakeStripe(); // afterEach closes whatever is current
    });

    it('answers 404 payment_not_found for an intent Stripe does not know', async () => {
      const err = await rejection(provider.capture('pi_does_not_exist', 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 404, code: 'payment_not_found' });
      expect(stripe.requests.at(-1)?.path).toBe('/v1/payment_intents/pi_does_not_exist/capture');
    });
  });
});
