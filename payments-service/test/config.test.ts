import { ConfigError } from '@market/common';
import { loadPaymentsConfig, paymentsProviderOf } from '../src/config';
import { keyEnv } from '../../test/support/keys';

const KEYS = keyEnv('payments');
import { createPaymentProvider } from '../src/providers';

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
    expect(providerFor({ NODE_ENV: 'production', PAYMENTS_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_x' })).toBe('stripe');
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
