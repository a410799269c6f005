import type { PaymentProvider } from './payment-provider';
import { createSandboxProvider } from './sandbox-provider';
import { createStripeProvider } from './stripe-provider';

export type { AuthorizeRequest, AuthorizeResult, PaymentProvider } from './payment-provider';
export { createSandboxProvider, type SandboxIntent, type SandboxIntentStatus, type SandboxProvider } from './sandbox-provider';
export { createStripeProvider, type StripeProviderOptions } from './stripe-provider';

/** Real Stripe when a key is configured; otherwise the in-memory sandbox so the stack runs offline. */
export function createPaymentProvider(cfg: { stripeSecretKey?: string }): PaymentProvider {
  const key = cfg.stripeSecretKey?.trim();
  return key ? createStripeProvider({ secretKey: key }) : createSandboxProvider();
}
