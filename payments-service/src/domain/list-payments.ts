import type { Actor, contracts } from '@market/common';
import { publicPayment } from '../data-access/payment-repository';
import type { PaymentsDeps } from './deps';

/** The caller's own payments, newest first. One still being processed shows once it has settled. */
export async function listPayments(deps: PaymentsDeps, actor: Actor, orderId: string | undefined): Promise<{ items: contracts.Payment[] }> {
  const payments = await deps.payments.listSettledOfBuyer(actor.id, orderId);
  return { items: payments.map((p) => publicPayment(p)) };
}
