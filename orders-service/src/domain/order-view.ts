import type { contracts } from '@market/common';
import type { OrderRecord } from '../data-access/order-repository';

/** The contract's shape: the listing bookkeeping stays inside the service. */
export const publicOrder = (order: OrderRecord): contracts.Order => ({
  id: order.id,
  buyerId: order.buyerId,
  listingId: order.listingId,
  priceCents: order.priceCents,
  currency: order.currency,
  status: order.status,
  expiresAt: order.expiresAt,
  createdAt: order.createdAt,
  updatedAt: order.updatedAt,
});
