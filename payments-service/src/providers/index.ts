import type { PaymentProvider } from './payment-provider';
import { createSandboxProvider } from './sandbox-provider';
import { createStripeProvider, stripeEndpointOf } from './stripe-provider';
import { DEFAULT_STRIPE_TIMING, stripeTimingOf } from './stripe-timing';

export type { AuthorizeRequest, AuthorizeResult, PaymentProvider } from './payment-provider';
export { createSandboxProvider, type SandboxIntent, type SandboxIntentStatus, type SandboxProvider } from './sandbox-provider';
export { PaymentOutcomeUnknown } from './payment-provider';
export type { IntentState, ProviderEvent, RefundState } from './payment-provider';
export { createStripeProvider, STRIPE_API_VERSION, stripeEndpointOf, type StripeProviderOptions, verifyStripeWebhook, WEBHOOK_TOLERANCE_SECONDS } from './stripe-provider';
export { stripeTimingOf, type StripeTiming } from './stripe-timing';
export { declineCodeOf, STRIPE_DECLINING_TEST_METHODS } from './stripe-test-cards';

/**
 * The provider the configuration chose (see paymentsProviderOf); the in-memory sandbox lets the stack
 * run offline. Stripe's timeouts follow RPC_TIMEOUT_MS (stripeTimingOf) and STRIPE_API_BASE, when
 * set, says where Stripe answers (stripe-mock, say).
 */
export function createPaymentProvider(cfg: {
  provider: 'stripe' | 'sandbox';
  stripeSecretKey?: string | undefined;
  stripeApiBase?: string | undefined;
  rpcTimeoutMs?: number | undefined;
}): PaymentProvider {
  if (cfg.provider === 'sandbox') return createSandboxProvider();
  const key = cfg.stripeSecretKey?.trim();
  // The configuration already refuses this; checked again so that no caller can get a keyless Stripe.
  if (!key) throw new Error('PAYMENTS_PROVIDER=stripe needs STRIPE_SECRET_KEY');
  const timing = cfg.rpcTimeoutMs === undefined ? DEFAULT_STRIPE_TIMING : stripeTimingOf(cfg.rpcTimeoutMs);
  return createStripeProvider({
    secretKey: key,
    ...(cfg.stripeApiBase ? stripeEndpointOf(cfg.stripeApiBase) : {}),
    timeoutMs: timing.timeoutMs,
    maxNetworkRetries: timing.maxNetworkRetries,
  });
}
