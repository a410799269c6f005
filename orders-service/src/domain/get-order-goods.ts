import { problem } from '@market/common';
import type { Actor, contracts } from '@market/common';
import type { OrdersDeps } from './deps';
import { markListingSoldOf, requestBudgetMs } from './listing-sync';
import { orderErrors } from './order-errors';

type OrderGoods = contracts.OrderGoods;

/**
 * The goods of the buyer's own complete order: the seller's text, and for a file a fresh link that works
 * DOWNLOAD_LINK_MAX_USES times for DOWNLOAD_LINK_TTL_SECONDS. Anyone else's order is "not found", as for
 * GET /orders/{id}; an order not paid, or paid and refunded (the refund revoked them), gets none.
 */
export async function getOrderGoods(deps: OrdersDeps, buyer: Actor, id: string): Promise<OrderGoods> {
  const order = await deps.orders.findById(id);
  if (!order || order.buyerId !== buyer.id) throw problem('not_found', 'The order');
  if (order.status !== 'complete') throw orderErrors.notComplete(order.status);
  // Paid, but listings-service has not confirmed the sale yet (it was away): finish that now rather than
  // make the buyer wait for the sweep; listings-service hands the goods only to the order it sold to.
  if (!order.listingSoldConfirmed && (await markListingSoldOf(deps, order, requestBudgetMs(deps))) === 'failed') throw problem('goods_not_ready');
  const { text, file } = await deps.listings.orderGoods(order.listingId, order.id);
  if (!file) return text !== undefined ? { text } : {};
  // A refund racing this request may revoke the order's links before this one exists: the link still
  // never works, since each use also requires the order to be complete.
  const link = await deps.downloadLinks.create(order.id, deps.downloadLimits.ttlSeconds, deps.downloadLimits.maxUses);
  return { ...(text !== undefined ? { text } : {}), file: { ...file, url: `/downloads/${link.token}`, expiresAt: link.expiresAt } };
}
