import { ConfigError } from '@market/common';
import { loadPaymentsConfig, paymentsProviderOf } from '../src/config';
import { keyEnv } from '../../test/support/keys';

const KEYS = keyEnv('payments');
import { createPaymentProvider, stripeTimingOf } from '../src/providers';
import { retryBackoffMs } from '../src/providers/stripe-timing';
import { paymentRpcTimeoutMs } from '@market/common';

const providerFor = (env: Record<string, string>) => paymentsProviderOf(loadPaymentsConfig({ ...KEYS, ...env }));

describe('choosing the payment provider', () => {
  test('production refuses to start without PAYMENTS_PROVIDER, even with a Stripe key', () => {
    expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV: 'production' })).toThrow(/PAYMENTS_PROVIDER: is required when NODE_ENV=production/);
    expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x' })).toThrow(/PAYMENTS_PROVIDER/);
    expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV: 'production', PAYMENTS_PROVIDER: '' })).toThrow(/PAYMENTS_PROVIDER/);
  });

  test('production runs the sandbox only when PAYMENTS_PROVIDER=sandbox says so', () => {
    expect(providerFor({ NODE_ENV: 'production', PAYMENTS_PROVIDER: 'sandbox' })).toBe('sandbox');
    expect(providerFor({ NODE_ENV: 'production', PAYMENTS_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh12' })).toBe('stripe');
  });

  test('production with Stripe needs the webhook signing secret; a malformed one is refused anywhere', () => {
    expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV: 'production', PAYMENTS_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_x' })).toThrow(
      /STRIPE_WEBHOOK_SECRET: is required when NODE_ENV=production and PAYMENTS_PROVIDER=stripe/,
    );
    expect(() => loadPaymentsConfig({ ...KEYS, STRIPE_WEBHOOK_SECRET: 'secret' })).toThrow(/STRIPE_WEBHOOK_SECRET: must be a webhook signing secret/);
    expect(loadPaymentsConfig({ ...KEYS, STRIPE_SECRET_KEY: 'sk_test_x' }).STRIPE_WEBHOOK_SECRET).toBeUndefined();
  });

  test('PAYMENTS_PROVIDER=stripe needs STRIPE_SECRET_KEY, in production and outside it', () => {
    for (const NODE_ENV of ['production', 'development']) {
      expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV, PAYMENTS_PROVIDER: 'stripe' })).toThrow(/STRIPE_SECRET_KEY: is required when PAYMENTS_PROVIDER=stripe/);
      expect(() => loadPaymentsConfig({ ...KEYS, NODE_ENV, PAYMENTS_PROVIDER: 'stripe', STRIPE_SECRET_KEY: '  ' })).toThrow(/STRIPE_SECRET_KEY/);
    }
  });

  test('an unknown provider is refused, naming the choices', () => {
    expect(() => loadPaymentsConfig({ ...KEYS, PAYMENTS_PROVIDER: 'paypal' })).toThrow(/PAYMENTS_PROVIDER: must be stripe or sandbox/);
  });

  test('outside production the provider follows STRIPE_SECRET_KEY unless PAYMENTS_PROVIDER names one', () => {
    expect(providerFor({})).toBe('sandbox');
    expect(providerFor({ NODE_ENV: 'development', STRIPE_SECRET_KEY: '' })).toBe('sandbox');
    expect(providerFor({ NODE_ENV: 'test', STRIPE_SECRET_KEY: 'sk_test_x' })).toBe('stripe');
    expect(providerFor({ STRIPE_SECRET_KEY: 'sk_test_x', PAYMENTS_PROVIDER: 'sandbox' })).toBe('sandbox');
  });

  test('the provider built is the one chosen', () => {
    expect(createPaymentProvider({ provider: 'sandbox', stripeSecretKey: 'sk_test_x' }).name).toBe('sandbox');
    expect(createPaymentProvider({ provider: 'stripe', stripeSecretKey: 'sk_test_x' }).name).toBe('stripe');
    expect(() => createPaymentProvider({ provider: 'stripe' })).toThrow(/STRIPE_SECRET_KEY/);
  });
});

describe('the coupon attempt limit', () => {
  test('defaults to 10 unusable coupons per 15 minutes', () => {
    expect(loadPaymentsConfig(KEYS)).toMatchObject({ COUPON_FAILURES_MAX: 10, COUPON_FAILURES_WINDOW_SECONDS: 900 });
  });

  test.each([
    ['COUPON_FAILURES_MAX', '0'],
    ['COUPON_FAILURES_MAX', 'ten'],
    ['COUPON_FAILURES_WINDOW_SECONDS', '0'],
    ['COUPON_FAILURES_WINDOW_SECONDS', '1.5'],
  ])('%s=%p is refused, naming the setting', (name, value) => {
    expect(() => loadPaymentsConfig({ ...KEYS, [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

describe('where Stripe answers', () => {
  test('STRIPE_API_BASE is unset by default (api.stripe.com), and may name another http(s) base such as stripe-mock', () => {
    expect(loadPaymentsConfig(KEYS).STRIPE_API_BASE).toBeUndefined();
    expect(loadPaymentsConfig({ ...KEYS, STRIPE_API_BASE: '' }).STRIPE_API_BASE).toBeUndefined();
    expect(loadPaymentsConfig({ ...KEYS, STRIPE_API_BASE: 'http://localhost:12111' }).STRIPE_API_BASE).toBe('http://localhost:12111');
    expect(createPaymentProvider({ provider: 'stripe', stripeSecretKey: 'sk_test_x', stripeApiBase: 'http://localhost:12111', rpcTimeoutMs: 5000 }).name).toBe('stripe');
  });

  test.each(['localhost:12111', 'ftp://localhost:12111', 'http://localhost:12111/v1', 'http://localhost:12111?x=1'])('STRIPE_API_BASE=%p is refused, naming the setting', (value) => {
    expect(() => loadPaymentsConfig({ ...KEYS, STRIPE_API_BASE: value })).toThrow(/STRIPE_API_BASE: must be an http or https URL with no path/);
  });
});

describe("the time one Stripe call may take", () => {
  test.each([5000, 3000, 10_000, 1000, 100])('fits inside the gateway\'s wait for payments.create, less one RPC timeout, with RPC_TIMEOUT_MS=%p', (rpcTimeoutMs) => {
    const { timeoutMs, maxNetworkRetries, budgetMs } = stripeTimingOf(rpcTimeoutMs);

    expect(budgetMs).toBe(paymentRpcTimeoutMs(rpcTimeoutMs) - rpcTimeoutMs);
    // The request and the SDK's retries of it, their back-off, and one follow-up read.
    expect((maxNetworkRetries + 1) * timeoutMs + retryBackoffMs(maxNetworkRetries) + timeoutMs).toBeLessThanOrEqual(budgetMs);
    expect(timeoutMs).toBeGreaterThan(0);
  });

  test('with the default RPC_TIMEOUT_MS: one retry, about 3 s per request, 10 s in all', () => {
    expect(stripeTimingOf(loadPaymentsConfig(KEYS).RPC_TIMEOUT_MS)).toEqual({ timeoutMs: 3166, maxNetworkRetries: 1, budgetMs: 10_000 });
  });

  test("stripe-node's back-off before its retries is counted: 0.5 s, then 0.5 s, 1 s, 2 s ...", () => {
    expect([0, 1, 2, 3, 4].map(retryBackoffMs)).toEqual([0, 500, 1000, 2000, 4000]);
  });
});
