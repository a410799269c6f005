import { AppError, domainEvents, problem } from '@market/common';
import type { PaymentRecord } from '../data-access/payment-repository';
import { publicPayment } from './payment-view';
import type { ProviderEvent } from '../providers';
import type { PaymentsDeps } from './deps';
import { syncRefund } from './sync-refund';
import { cancelIntent } from './settle-payment';
import { syncPayment } from './sync-payment';

export type EventOutcome = 'handled' | 'duplicate' | 'ignored';

/**
 * One provider event (a verified Stripe webhook, or the sandbox's stand-in), handled once by its id.
 * What the event carries is only a reason to look: each handler reads the intent or its refunds back
 * from the provider, so late, repeated and out-of-order events all end in the same state.
 *
 * Throws (and forgets the claim, so the provider's redelivery runs it again) only when the outcome
 * is not known yet: the provider or orders-service did not answer.
 */
export async function handleProviderEvent(deps: PaymentsDeps, event: ProviderEvent): Promise<EventOutcome> {
  if (event.about === 'nothing') return 'ignored';
  if (!(await deps.providerEvents.claim(event.id, event.type))) return 'duplicate';
  let outcome: EventOutcome;
  try {
    outcome = await act(deps, event);
  } catch (err) {
    await deps.providerEvents.release(event.id).catch(() => undefined);
    throw err;
  }
  await deps.providerEvents.markDone(event.id);
  return outcome;
}

async function act(deps: PaymentsDeps, event: Exclude<ProviderEvent, { about: 'nothing' }>): Promise<EventOutcome> {
  const payment = await paymentOf(deps, event);
  if (!payment) {
    deps.logger.info('a provider event about no payment of ours was ignored', { eventId: event.id, type: event.type });
    return 'ignored';
  }
  switch (event.about) {
    case 'intent':
      await onIntent(deps, payment);
      return 'handled';
    case 'refund':
      await syncRefund(deps, payment);
      return 'handled';
    case 'dispute':
      await onDispute(deps, payment, event.dispute);
      return 'handled';
  }
}

async function paymentOf(deps: PaymentsDeps, event: Exclude<ProviderEvent, { about: 'nothing' }>): Promise<PaymentRecord | undefined> {
  if (event.about === 'intent' && event.paymentId) {
    const byId = await deps.payments.findById(event.paymentId);
    // The metadata is the intent's own, but only the payment that recorded this intent is its payment.
    if (byId && (byId.providerRef === event.intentId || byId.providerRef === null)) return byId;
  }
  return deps.payments.findByProviderRef(event.intentId);
}

async function onIntent(deps: PaymentsDeps, p: PaymentRecord): Promise<void> {
  // pending: a request (or the reconciler) is settling it right now and will act on the answer itself.
  if (p.status === 'pending') return;
  if (p.status === 'requires_action') {
    try {
      await syncPayment(deps, p);
    } catch (err) {
      // A decline, a cancellation, an order that is over: final answers for the buyer, handled here.
      if (err instanceof AppError && err.status < 500) return;
      throw err;
    }
    return;
  }
  if (p.status === 'failed' && p.providerRef) await releaseLateHold(deps, p, p.providerRef);
}

/**
 * A payment that already failed, whose intent now holds money anyway (the buyer finished 3-D Secure
 * after paying anew, or after the order ended): the hold belongs to nothing, so it is let go.
 */
async function releaseLateHold(deps: PaymentsDeps, p: PaymentRecord, providerRef: string): Promise<void> {
  const state = await deps.provider.retrieve(providerRef);
  if (state.status !== 'authorized') return;
  deps.logger.warn('an intent of a failed payment holds money; cancelling it', { paymentId: p.id, providerRef });
  await cancelIntent(deps, p, providerRef);
}

async function onDispute(deps: PaymentsDeps, p: PaymentRecord, dispute: { id: string; reason: string; status: string; amount: number }): Promise<void> {
  // Only captured money can be disputed: a payment still being settled is succeeded a moment later.
  if (p.status === 'pending') throw problem('payment_settling');
  const news = await deps.db.transaction(async (trx) => {
    if (!(await deps.payments.recordDispute(p.id, dispute, trx))) return false;
    await deps.outbox.publish(trx, 'payment.disputed', { payment: publicPayment({ ...p, disputeStatus: dispute.status }), dispute });
    return true;
  });
  if (!news) return;
  domainEvents.inc({ event: 'payment_disputed' });
  deps.logger.error('the buyer disputed a charge with their bank: respond with evidence at the provider before the deadline', {
    paymentId: p.id,
    orderId: p.orderId,
    disputeId: dispute.id,
    reason: dispute.reason,
  });
}
