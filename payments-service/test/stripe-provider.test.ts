import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import { AppError } from '@market/common';
import { eventually } from '../../test/support/wait';
import { createStripeProvider, STRIPE_API_VERSION, stripeEndpointOf, type StripeProviderOptions } from '../src/providers/stripe-provider';
import { type AuthorizeRequest, PaymentOutcomeUnknown, type PaymentProvider } from '../src/providers/payment-provider';
import { STRIPE_DECLINING_TEST_METHODS } from '../src/providers/stripe-test-cards';
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
    paymentId: 'payment-7f3a',
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
        'metadata[orderId]': 'order-7f3a',
        'metadata[paymentId]': 'payment-7f3a',
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

    // Replaces "retries after an HTTP 500 with the same idempotency key and ends up with exactly one
    // intent": that relied on the fake forgetting the 500. Stripe stores it under the key and
    // replays it, so the retry repeats the failure; the provider reads instead of guessing.
    it('after a 500 stored under the key (replayed to the SDK\'s retry), lists the order\'s intents and, finding none, reports the outcome unknown', async () => {
      stripe.inject('http500');

      const err = await rejection(provider.authorize(request()));

      expect(err).toBeInstanceOf(PaymentOutcomeUnknown);
      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect(stripe.requests.map((r) => [r.method, r.path, r.idempotencyKey])).toEqual([
        ['POST', '/v1/payment_intents', 'order-7f3a:authorize'],
        ['POST', '/v1/payment_intents', 'order-7f3a:authorize'],
        ['GET', '/v1/payment_intents', undefined],
      ]);
      expect(stripe.requests[2]?.body).toMatchObject({ limit: '100', 'created[gte]': expect.stringMatching(/^\d+$/) });
      expect(stripe.intents.size).toBe(0);
    });

    it('after a 500 that came once the intent existed, finds the intent by metadata.orderId and uses it: one intent, one key', async () => {
      stripe.inject('http500-after');

      const result = await provider.authorize(request());

      const [intent] = [...stripe.intents.values()];
      expect(result).toEqual({ status: 'authorized', providerRef: intent?.id });
      expect(stripe.intents.size).toBe(1);
      expect(new Set(stripe.requests.filter((r) => r.method === 'POST').map((r) => r.idempotencyKey))).toEqual(new Set(['order-7f3a:authorize']));
    });

    it('after a timeout, is answered 409 while Stripe still runs the first request, and reports the outcome unknown rather than trying another key', async () => {
      stripe.inject({ delayMs: 1_500 });
      const impatient = providerFor({ timeoutMs: 400, maxNetworkRetries: 1 });

      const err = await rejection(impatient.authorize(request()));

      expect(err).toBeInstanceOf(PaymentOutcomeUnknown);
      expect(new Set(stripe.requests.filter((r) => r.method === 'POST').map((r) => r.idempotencyKey))).toEqual(new Set(['order-7f3a:authorize']));
      // Stripe finishes the first request: the hold exists, and the reconciler's look finds it.
      expect(await eventually(() => stripe.intents.size > 0, 3_000)).toBe(true);
      expect([...stripe.intents.values()].map((i) => i.status)).toEqual(['requires_capture']);
      await expect(provider.findAuthorization(request(), new Date(Date.now() - 5_000))).resolves.toEqual({
        status: 'authorized',
        providerRef: [...stripe.intents.keys()][0],
      });
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

    it.each(Object.entries(STRIPE_DECLINING_TEST_METHODS))('declines %s with Stripe\'s decline_code, or its code where Stripe gives none', async (paymentMethod, stripeError) => {
      const result = await provider.authorize(request({ paymentMethod }));

      expect(result).toEqual({ status: 'declined', providerRef: expect.stringMatching(/^pi_fake/), declineCode: stripeError.declineCode ?? stripeError.code, message: stripeError.message });
    });

    it('records an expired card as expired_card, not as the empty decline_code stripe-node reports for it', async () => {
      const result = await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclinedExpiredCard' }));

      expect(result).toMatchObject({ status: 'declined', declineCode: 'expired_card', message: 'Your card has expired.' });
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

      // Two refund attempts (POST); the provider then reads the intent's refunds (GET) to see that
      // the refund behind charge_already_refunded has gone through. (Counted all /v1/refunds
      // requests before refund status was honoured.)
      expect(stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds')).toHaveLength(2);
      expect(stripe.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/refunds', body: { payment_intent: ref } });
      expect(stripe.refunds).toHaveLength(1);
    });

    it('does not count a pending refund as done, and does once it has gone through', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');
      stripe.refundOutcome = 'pending';

      const pending = await rejection(provider.refund(ref, 'order-7f3a:refund'));
      const [refund] = stripe.refunds;
      stripe.settleRefund(refund?.id ?? '', 'succeeded');

      expect(pending).toMatchObject({ status: 503, code: 'refund_pending' });
      // The same key replays "pending"; the provider reads the refund as it is now.
      await expect(provider.refund(ref, 'order-7f3a:refund')).resolves.toBeUndefined();
      expect(stripe.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/refunds/${refund?.id}` });
      expect(stripe.refunds).toHaveLength(1);
    });

    it('does not count a failed refund as done', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');
      stripe.refundOutcome = 'pending';
      await rejection(provider.refund(ref, 'order-7f3a:refund'));
      stripe.settleRefund(stripe.refunds[0]?.id ?? '', 'failed');

      const err = await rejection(provider.refund(ref, 'order-7f3a:refund'));

      expect(err).toMatchObject({ status: 502, code: 'refund_failed' });
    });

    it('after a 500 on a capture that did happen, reads the intent back and takes the capture as done', async () => {
      const ref = await authorizedRef();
      stripe.inject('http500-after');

      await expect(provider.capture(ref, 'order-7f3a:capture')).resolves.toBeUndefined();

      expect(stripe.requests.slice(-3).map((r) => [r.method, r.path])).toEqual([
        ['POST', `/v1/payment_intents/${ref}/capture`],
        ['POST', `/v1/payment_intents/${ref}/capture`],
        ['GET', `/v1/payment_intents/${ref}`],
      ]);
      expect(stripe.intents.get(ref)?.status).toBe('succeeded');
    });

    it('after a 500 on a capture that did not happen, reports it unknown; a new key then captures, where the old one only replays the 500', async () => {
      const ref = await authorizedRef();
      stripe.inject('http500');

      const err = await rejection(provider.capture(ref, 'order-7f3a:capture'));
      const replayed = await rejection(provider.capture(ref, 'order-7f3a:capture'));
      await provider.capture(ref, 'order-7f3a:capture-retry-1');

      expect(err).toBeInstanceOf(PaymentOutcomeUnknown);
      expect(replayed).toBeInstanceOf(PaymentOutcomeUnknown);
      expect(stripe.intents.get(ref)?.status).toBe('succeeded');
    });

    it('refuses to capture an authorization that lapsed (Stripe cancelled the intent) with 409 payment_intent_unexpected_state', async () => {
      const ref = await authorizedRef();
      stripe.expire(ref);

      const err = await rejection(provider.capture(ref, 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 409, code: 'payment_intent_unexpected_state' });
      expect(err).not.toBeInstanceOf(PaymentOutcomeUnknown);
    });
  });

  describe('finding an authorization after an unanswered attempt', () => {
    it('finds the hold of the order (list and search), uses it and lets go of any other hold of the same order', async () => {
      const since = new Date();
      const stray = await authorizedRef('older-attempt');
      const mine = await authorizedRef('order-7f3a:authorize');

      const found = await provider.findAuthorization(request(), since);

      expect(found).toEqual({ status: 'authorized', providerRef: mine });
      expect(stripe.intents.get(mine)?.status).toBe('requires_capture');
      expect(stripe.intents.get(stray)?.status).toBe('canceled');
      const reads = stripe.requests.filter((r) => r.method === 'GET').map((r) => r.path).sort();
      expect(reads).toEqual(['/v1/payment_intents', '/v1/payment_intents/search']);
      expect(stripe.requests.find((r) => r.path === '/v1/payment_intents/search')?.body.query).toBe("metadata['orderId']:'order-7f3a'");
    });

    it('answers null when the provider holds nothing for the order (a declined intent holds nothing)', async () => {
      await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));
      await provider.authorize(request({ orderId: 'another-order', idempotencyKey: 'another' }));

      await expect(provider.findAuthorization(request(), new Date(Date.now() - 1_000))).resolves.toBeNull();
    });

    it('cannot tell when Stripe does not answer the reads', async () => {
      stripe.inject('http500', 'http500', 'http500', 'http500');

      await expect(rejection(provider.findAuthorization(request(), new Date()))).resolves.toBeInstanceOf(PaymentOutcomeUnknown);
    });
  });

  describe('configuration', () => {
    it('sends the API version the SDK release is pinned to, explicitly, with every request', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');

      expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
      expect(new Set(stripe.apiVersions)).toEqual(new Set([STRIPE_API_VERSION]));
    });

    it('pins the SDK to one exact version in package.json and the lock file, the one installed', () => {
      const root = join(__dirname, '..', '..');
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
      const installed = JSON.parse(readFileSync(join(root, 'node_modules', 'stripe', 'package.json'), 'utf8'));

      expect(pkg.dependencies.stripe).toMatch(/^\d+\.\d+\.\d+$/);
      expect(lock.packages[''].dependencies.stripe).toBe(pkg.dependencies.stripe);
      expect(lock.packages['node_modules/stripe'].version).toBe(pkg.dependencies.stripe);
      expect(installed.version).toBe(pkg.dependencies.stripe);
    });

    it('reads STRIPE_API_BASE as host, port and protocol, and reaches the API there', async () => {
      const endpoint = stripeEndpointOf(`http://127.0.0.1:${stripe.port}`);
      const viaBase = createStripeProvider({ secretKey: VALID_KEY, ...endpoint });

      expect(endpoint).toEqual({ host: '127.0.0.1', port: stripe.port, protocol: 'http' });
      expect(stripeEndpointOf('https://stripe.internal.example')).toEqual({ host: 'stripe.internal.example', port: 443, protocol: 'https' });
      expect(stripeEndpointOf('http://[::1]:12111')).toEqual({ host: '::1', port: 12111, protocol: 'http' });
      expect(() => stripeEndpointOf('http://localhost:12111/v1')).toThrow(/STRIPE_API_BASE/);
      await expect(viaBase.authorize(request())).resolves.toMatchObject({ status: 'authorized' });
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

    // Replaces "turns HTTP 500 on every attempt into AppError 502 after the SDK has retried twice
    // with the same key": Stripe stores the first 500 under the key, so the SDK's retry is answered
    // from the store; the provider then reads the intent instead of retrying the key again.
    it('turns a 500 into AppError 502 after the SDK\'s one retry (answered with the stored 500) and a read of the intent', async () => {
      const ref = await authorizedRef();
      stripe.inject('http500');

      const err = await rejection(provider.capture(ref, 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect(stripe.requests.slice(1).map((r) => [r.method, r.idempotencyKey])).toEqual([
        ['POST', 'order-7f3a:capture'],
        ['POST', 'order-7f3a:capture'],
        ['GET', undefined],
      ]);
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
