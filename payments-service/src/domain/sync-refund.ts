import type { PaymentRecord } from '../data-access/payment-repository';
import type { PaymentsDeps } from './deps';
import { finishSaleRefund, refundFailed } from './refund-outcomes';

/**
 * Where a sale's refunds stand at the provider, recorded: the webhook's refund events and the
 * reconciler call this. A refund made at the provider's dashboard arrives here as well.
 */
export async function syncRefund(deps: PaymentsDeps, p: PaymentRecord): Promise<void> {
  if (!p.providerRef || (p.status !== 'succeeded' && p.status !== 'refunded')) return;
  const state = await deps.provider.refunds(p.providerRef);
  if (state.refundedAmount >= p.amountCents) {
    if (p.status === 'succeeded') await finishSaleRefund(deps, p);
    return;
  }
  if (state.pending) {
    if (p.refundStatus !== 'pending') await deps.payments.markRefundRequested(p.id);
    else await deps.payments.touch(p.id);
    return;
  }
  if (state.failure) await refundFailed(deps, p, state.failure);
  else if (state.refundedAmount > 0) deps.logger.warn('a partial refund was made at the provider; the payment stays succeeded', { paymentId: p.id, refundedAmount: state.refundedAmount });
}
