import { problem } from '@market/common';
import type { OrderRecord, OrderStatus } from '../data-access/order-repository';

export type { UnrefundableStatus } from '@market/common';

/** The problems whose sentence or extensions come from an order's state; the rest are `problem(…)` where they happen. */
export const orderErrors = {
  notPending: (order: OrderRecord, action: 'cancelled' | 'paid') => problem('order_not_pending', 'inOrders', action, order.status),
  notComplete: (status: OrderStatus) => problem('order_not_complete', status === 'refunded' ? 'refunded' : 'unpaid'),
  // The buyer's own bounds, said as what they can do next; the extension carries the fact a client acts on.
  alreadyHolding: (orderId: string) => problem('already_holding', orderId, { extensions: { orderId } }),
  alreadyWaiting: (position: number) => problem('already_waiting', position, { extensions: { position } }),
};
