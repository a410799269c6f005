import { AppError, type contracts, describeError, domainEvents, problem } from '@market/common';
import type { PaymentRecord } from '../data-access/payment-repository';
import { publicPayment } from './payment-view';
import type { IntentState } from '../providers';
import type { PaymentsDeps } from './deps';
import { outcomeOf } from './payment-outcome';
import { buyerOf, cancelIntent, fail, nextActionOf, type Settled, settlePayment } from './settle-payment';

/**
 * A payment that waited for its buyer (3-D Secure), brought to where its intent now stands at the
 * provider. The provider is asked, never a message believed: the webhook, the buyer's refresh and
 * the reconciler all land here, in any order and any number of times.
 *
 * - still requires_action: answered as it is, with what the browser needs to finish. With
 *   `abandonIfOrderOver` (the reconciler), a payment whose order can no longer be paid is let go:
 *   the intent is cancelled and the payment fails.
 * - authorized (or captured): one caller wins requires_action → pending and settles it like any
 *   payment: the order is completed and the money captured, or the hold let go.
 * - declined (3-D Secure failed, or the bank declined after it): the payment fails, the order stays
 *   payable, and the buyer gets 402 card_declined.
 * - canceled: the payment fails (409 payment_canceled) and the order stays payable.
 *
 * Any other payment is answered as it stands (outcomeOf).
 */
export async function syncPayment(deps: PaymentsDeps, p: PaymentRecord, opts: { abandonIfOrderOver?: boolean } = {}): Promise<Settled> {
  if (p.status !== 'requires_action' || !p.providerRef) return outcomeOf(deps, p);
  const providerRef = p.providerRef;
  let state: IntentState;
  try {
    state = await deps.provider.retrieve(providerRef);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) throw err;
    deps.logger.warn('could not read a payment waiting for its buyer back from the provider', { paymentId: p.id, err: describeError(err).message });
    throw Object.assign(problem('payment_outcome_unknown'), { cause: err });
  }
  switch (state.status) {
    case 'requires_action':
    case 'processing': {
      const order = await deps.orders.get(p.orderId, buyerOf(p));
      if (opts.abandonIfOrderOver && !isPayable(order)) return abandon(deps, p, providerRef, order);
      await deps.payments.touch(p.id);
      const nextAction = state.status === 'requires_action' ? nextActionOf(deps.provider, state.clientSecret) : undefined;
      return { payment: publicPayment(p, nextAction), order };
    }
    case 'authorized':
    case 'captured': {
      if (!(await deps.payments.resumeAfterAction(p.id))) return outcomeOf(deps, (await deps.payments.findById(p.id)) ?? p);
      deps.logger.info('the buyer finished 3-D Secure; settling the payment', { paymentId: p.id, orderId: p.orderId });
      return settlePayment(deps, { ...p, status: 'pending' });
    }
    case 'declined':
      await fail(deps, p, { decline: { declineCode: state.declineCode, declineMessage: state.message } });
      domainEvents.inc({ event: 'payment_declined' });
      throw problem('card_declined', state.message);
    case 'canceled':
      await fail(deps, p, { failureReason: 'canceled' });
      throw problem('payment_canceled');
  }
}

const isPayable = (order: contracts.Order): boolean => order.status === 'pending' && Date.parse(order.expiresAt) > Date.now();

/** The buyer never finished and the order is over (expired, cancelled): let the intent go, fail the payment. */
async function abandon(deps: PaymentsDeps, p: PaymentRecord, providerRef: string, order: contracts.Order): Promise<never> {
  await cancelIntent(deps, p, providerRef);
  await fail(deps, p, { failureReason: 'canceled' });
  deps.logger.info('a payment waiting for its buyer was let go: its order is over', { paymentId: p.id, orderStatus: order.status });
  throw problem('order_not_pending', 'atPayment', order.status);
}
