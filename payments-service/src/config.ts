import { z } from 'zod';
import { baseSettings, databaseSettings, keySettings, loadConfig, setting } from '@market/common';

export const PAYMENT_PROVIDERS = ['stripe', 'sandbox'] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];

export const paymentsConfigSchema = z
  .object({
    ...baseSettings,
    ...databaseSettings,
    ...keySettings,
    METRICS_PORT: setting.port(9103),
    /**
     * Who moves the money. Required in production, so that a missing key can never turn a live
     * deployment into the sandbox; elsewhere it follows STRIPE_SECRET_KEY (see paymentsProviderOf).
     */
    PAYMENTS_PROVIDER: setting.optionalString().pipe(z.enum(PAYMENT_PROVIDERS, { message: 'must be stripe or sandbox' }).optional()),
    /** Unset (or empty): the built-in sandbox answers like Stripe's test mode and no money moves. */
    STRIPE_SECRET_KEY: setting.optionalString(),
    /**
     * Where the Stripe API answers, as scheme://host[:port]: unset for api.stripe.com; e.g.
     * http://localhost:12111 to drive the service against stripe-mock.
     */
    STRIPE_API_BASE: setting.optionalString().refine((v) => v === undefined || isApiBase(v), 'must be an http or https URL with no path, such as http://localhost:12111'),
    /**
     * The signing secret of the Stripe webhook endpoint (whsec_…): POST /webhooks/stripe verifies
     * every event with it. Required in production with PAYMENTS_PROVIDER=stripe: without webhooks,
     * 3-D Secure outcomes, lapsed authorizations, refunds and disputes are learnt late or never.
     */
    STRIPE_WEBHOOK_SECRET: setting.optionalString().refine((v) => v === undefined || /^whsec_[A-Za-z0-9_]{8,}$/.test(v), 'must be a webhook signing secret such as whsec_…'),
    /** Unusable coupons one buyer may try within the window before coupon payments are refused with 429. */
    COUPON_FAILURES_MAX: setting.int(10, 1, 1000),
    COUPON_FAILURES_WINDOW_SECONDS: setting.int(900, 1, 86_400),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.PAYMENTS_PROVIDER) {
      ctx.addIssue({ code: 'custom', path: ['PAYMENTS_PROVIDER'], message: 'is required when NODE_ENV=production (stripe or sandbox)' });
    }
    if (env.NODE_ENV === 'production' && env.PAYMENTS_PROVIDER === 'stripe' && !env.STRIPE_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['STRIPE_WEBHOOK_SECRET'], message: 'is required when NODE_ENV=production and PAYMENTS_PROVIDER=stripe' });
    }
    if (env.PAYMENTS_PROVIDER === 'stripe' && !env.STRIPE_SECRET_KEY?.trim()) {
      ctx.addIssue({ code: 'custom', path: ['STRIPE_SECRET_KEY'], message: 'is required when PAYMENTS_PROVIDER=stripe' });
    }
  });

function isApiBase(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash;
}

export type PaymentsConfig = z.infer<typeof paymentsConfigSchema>;

export const loadPaymentsConfig = (env?: Record<string, string | undefined>): Readonly<PaymentsConfig> => loadConfig(paymentsConfigSchema, env);

/** The provider to run: the one named, or (outside production) Stripe exactly when a key is set. */
export function paymentsProviderOf(config: Pick<PaymentsConfig, 'PAYMENTS_PROVIDER' | 'STRIPE_SECRET_KEY'>): PaymentProviderName {
  return config.PAYMENTS_PROVIDER ?? (config.STRIPE_SECRET_KEY?.trim() ? 'stripe' : 'sandbox');
}
