import { problem } from '@market/common';
import type { PaymentRecord } from '../data-access/payment-repository';
import { publicPayment } from './payment-view';
import type { PaymentsDeps } from './deps';
import { buyerOf, type Settled } from './settle-payment';

/**
 * A payment's answer as it stands, the same whoever asks again (a repeat under the Idempotency-Key,
 * the buyer's refresh): the payment and its order once it succeeded or was refunded, the problem it
 * ended with once it failed, 409 payment_in_progress while it is being settled. A payment waiting for
 * its buyer is answered by syncPayment, which asks the provider first.
 */
export async function outcomeOf(deps: PaymentsDeps, p: PaymentRecord): Promise<Settled> {
  switch (p.status) {
    case 'pending':
    case 'requires_action':
      throw problem('payment_in_progress');
    case 'refunded':
      // Money taken for an order that could not be completed, given back: answered as that refusal.
      if (p.refundStatus !== 'succeeded') throw problem('order_not_pending', 'atPayment', (await deps.orders.get(p.orderId, buyerOf(p))).status);
      // A sale refunded afterwards: answered as the sale it was, now refunded.
      return { payment: publicPayment(p), order: await deps.orders.get(p.orderId, buyerOf(p)) };
    case 'succeeded':
      return { payment: publicPayment(p), order: await deps.orders.get(p.orderId, buyerOf(p)) };
    case 'failed':
      if (p.failureReason === 'capture_refused') throw problem('payment_not_collected');
      if (p.failureReason === 'canceled') throw problem('payment_canceled');
      // A decline, whatever its code: rows written before decline codes fell back to Stripe's
      // `code` may hold an empty one (stripe-node's '' for a missing decline_code).
      if (p.declineCode !== null) throw problem('card_declined', p.declineMessage ?? '');
      throw problem('order_not_pending', 'atPayment', (await deps.orders.get(p.orderId, buyerOf(p))).status);
  }
}
