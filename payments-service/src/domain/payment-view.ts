import type { contracts } from '@market/common';
import type { PaymentRecord } from '../data-access/payment-repository';

/**
 * The contract's shape. `pending` never reaches a client; a payment in `requires_action` carries its
 * `nextAction` when the caller has just read the intent (the client secret is never stored here).
 */
export function publicPayment(p: PaymentRecord, nextAction?: contracts.Payment['nextAction']): contracts.Payment {
  if (p.status === 'pending') throw new Error(`payment ${p.id} is still pending and has no public shape`);
  return {
    id: p.id,
    orderId: p.orderId,
    amountCents: p.amountCents,
    currency: p.currency,
    status: p.status,
    provider: p.provider,
    providerRef: p.providerRef,
    ...(p.couponCode ? { couponCode: p.couponCode } : {}),
    ...(nextAction && p.status === 'requires_action' ? { nextAction } : {}),
    ...(p.refundStatus ? { refundStatus: p.refundStatus } : {}),
    ...(p.disputeStatus ? { disputeStatus: p.disputeStatus } : {}),
    createdAt: p.createdAt,
  };
}
