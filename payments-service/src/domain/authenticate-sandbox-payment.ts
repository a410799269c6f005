import { describeError, problem } from '@market/common';
import type { PaymentsDeps } from './deps';
import { handleProviderEvent } from './handle-provider-event';

/**
 * The sandbox's stand-in for Stripe.js finishing 3-D Secure in the buyer's browser: POST
 * /sandbox/payment-intents/{intentId}/authenticate with the intent's client secret (the only
 * credential, as with Stripe.js). Then, as Stripe sends a webhook, the sandbox hands its event to
 * the same handler; should that fail, the buyer's refresh or the reconciler settles the payment.
 * With Stripe configured there is no such step: 404.
 */
export async function authenticateSandboxPayment(
  deps: PaymentsDeps,
  input: { intentId: string; clientSecret: string; outcome: 'complete' | 'fail' },
): Promise<{ status: string }> {
  const sandbox = deps.sandbox;
  if (!sandbox) throw problem('not_found', 'The payment');
  const { status, event } = await sandbox.authenticate(input.intentId, input.clientSecret, input.outcome);
  try {
    await handleProviderEvent(deps, event);
  } catch (err) {
    deps.logger.warn('the sandbox event of a 3-D Secure outcome was not handled; the refresh or the reconciler settles it', { intentId: input.intentId, err: describeError(err).message });
  }
  return { status };
}
