import { problem } from '@market/common';
import type { Actor } from '@market/common';
import type { PaymentsDeps } from './deps';
import type { Settled } from './settle-payment';
import { syncPayment } from './sync-payment';

/**
 * The buyer's browser is back from 3-D Secure (POST /payments/{id}/refresh): the payment as the
 * provider now has it. The webhook does the same on its own; whichever comes first settles it.
 * Only the payment's buyer may ask; anyone else is told it does not exist.
 */
export async function refreshPayment(deps: PaymentsDeps, buyer: Actor, id: string): Promise<Settled> {
  const p = await deps.payments.findById(id);
  if (!p || p.buyerId !== buyer.id) throw problem('not_found', 'The payment');
  return syncPayment(deps, p);
}
