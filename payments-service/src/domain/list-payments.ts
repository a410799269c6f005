import type { Actor, contracts } from '@market/common';
import type { z } from 'zod';
import { publicPayment } from './payment-view';
import type { PaymentsDeps } from './deps';

/** A page of the caller's own payments, newest first. One still being processed shows once it has settled. */
export async function listPayments(deps: PaymentsDeps, actor: Actor, query: z.infer<typeof contracts.paymentsQuery>): Promise<contracts.Page<contracts.Payment>> {
  const { items, total } = await deps.payments.listSettledOfBuyer(actor.id, query.orderId, query.limit, query.offset);
  return { items: items.map((p) => publicPayment(p)), limit: query.limit, offset: query.offset, total };
}
