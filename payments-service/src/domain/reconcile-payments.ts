import { describeError, toAppError } from '@market/common';
import type { PaymentsDeps } from './deps';
import { syncRefund } from './sync-refund';
import { settlePayment } from './settle-payment';
import { syncPayment } from './sync-payment';

/** Payments settled per round; the rest wait for the next one. */
const BATCH = 20;

/**
 * Finishes payments left pending by a request that died or could not learn the order's outcome
 * (orders-service or the provider did not answer). Each is resumed with the same steps, so it ends
 * as the request would have: complete with one capture, or no money kept. An authorization that went
 * unanswered is looked for at the provider (by the order id) and used, rather than made twice; only
 * when the provider holds nothing for the order is the card authorized again, under a new key.
 * `staleAfterMs` keeps it away from payments whose request is still working.
 */
export async function reconcileStalePayments(deps: PaymentsDeps, staleAfterMs: number): Promise<number> {
  const stale = await deps.payments.findStalePending(new Date(Date.now() - staleAfterMs), BATCH);
  let resumed = 0;
  for (const payment of stale) {
    // Another replica may be reconciling too: only the one that wins the lease goes on.
    if (!(await deps.payments.lease(payment))) continue;
    resumed++;
    try {
      // One waiting for its buyer is looked up at the provider (a webhook may have been lost), and
      // let go once its order is over; any other is settled.
      const settled = payment.status === 'requires_action' ? await syncPayment(deps, payment, { abandonIfOrderOver: true }) : await settlePayment(deps, payment, { resumed: true });
      if (settled.payment.status === 'succeeded') deps.logger.info('stale payment settled: order complete, money captured', { paymentId: payment.id });
    } catch (err) {
      const problem = toAppError(err);
      // A 4xx is a final answer (declined, order not completable); a 5xx leaves it for the next round.
      if (problem.status < 500) deps.logger.info('stale payment settled without keeping money', { paymentId: payment.id, code: problem.code });
      // Settled, though not well: settlePayment has logged it and published payment.capture_failed.
      else if (problem.code === 'payment_not_collected') deps.logger.error('stale payment settled: order complete, capture refused', { paymentId: payment.id });
      else deps.logger.warn('stale payment not settled yet; will retry', { paymentId: payment.id, err: describeError(err).message });
    }
  }
  return resumed + (await reconcileStaleRefunds(deps, staleAfterMs));
}

/** Refunds started and not known to be done (no webhook came): asked about at the provider again. */
async function reconcileStaleRefunds(deps: PaymentsDeps, staleAfterMs: number): Promise<number> {
  const stale = await deps.payments.findStaleRefunds(new Date(Date.now() - staleAfterMs), BATCH);
  let checked = 0;
  for (const payment of stale) {
    if (!(await deps.payments.lease(payment))) continue;
    checked++;
    try {
      await syncRefund(deps, payment);
    } catch (err) {
      deps.logger.warn('could not check a pending refund yet; will retry', { paymentId: payment.id, err: describeError(err).message });
    }
  }
  return checked;
}
