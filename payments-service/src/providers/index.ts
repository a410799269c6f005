import type { PaymentProvider } from './payment-provider';
import { createSandboxProvider } from './sandbox-provider';
import { createStripeProvider } from './stripe-provider';

export type { AuthorizeRequest, AuthorizeResult, PaymentProvider } from './payment-provider';
export { createSandboxProvider, type SandboxIntent, type SandboxIntentStatus, type SandboxProvider } from './sandbox-provider';
export { createStripeProvider, type StripeProviderOptions } from './stripe-provider';

/** The provider the configuration chose (see paymentsProviderOf); the in-memory sandbox lets the stack run offline. */
export function createPaymentProvider(cfg: { provider: 'stripe' | 'sandbox'; stripeSecretKey?: string | undefined }): PaymentProvider {
  if (cfg.provider === 'sandbox') return createSandboxProvider();
  const key = cfg.stripeSecretKey?.trim();
  // The configuration already refuses this; checked again so that no caller can get a keyless Stripe.
  if (!key) throw new Error('PAYMENTS_PROVIDER=stripe needs STRIPE_SECRET_KEY');
  return createStripeProvider({ secretKey: key });
}
