import { problem } from '@market/common';
import { verifyStripeWebhook } from '../providers';
import type { PaymentsDeps } from './deps';
import { type EventOutcome, handleProviderEvent } from './handle-provider-event';

/**
 * POST /webhooks/stripe, as the gateway received it. The gateway only carries it: the signature is
 * verified here, with the endpoint's secret (STRIPE_WEBHOOK_SECRET), over the exact bytes Stripe
 * sent, within Stripe's 5-minute tolerance. A bad signature is a 400 and changes nothing.
 */
export async function receiveStripeWebhook(deps: PaymentsDeps, input: { body: string; signature: string }): Promise<{ received: true; outcome: EventOutcome }> {
  if (!deps.webhookSecret) {
    deps.logger.error('a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set: it cannot be verified, so it is refused');
    throw problem('webhooks_not_configured');
  }
  const event = verifyStripeWebhook(Buffer.from(input.body, 'base64'), input.signature, deps.webhookSecret);
  const outcome = await handleProviderEvent(deps, event);
  deps.logger.info('stripe webhook', { eventId: event.id, type: event.type, outcome });
  return { received: true, outcome };
}
