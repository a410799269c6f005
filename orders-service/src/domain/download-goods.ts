import { AppError, type contracts, problem } from '@market/common';
import type { OrdersDeps } from './deps';

/**
 * A download through a signed link: whoever holds a working link gets the file, no account needed (the
 * link is the bearer). Each download takes one of the link's uses first, atomically; a link that is
 * expired, used up or revoked, or whose order is no longer complete, is gone, with one answer for all.
 * A download that then fails on our side (listings-service away) gives its use back.
 */
export async function downloadGoods(deps: OrdersDeps, token: string): Promise<contracts.GoodsFileContent> {
  const orderId = await deps.downloadLinks.takeUse(token);
  const order = orderId ? await deps.orders.findById(orderId) : undefined;
  if (!order) throw problem('link_gone');
  try {
    return await deps.listings.goodsFile(order.listingId, order.id);
  } catch (err) {
    // listings-service's 4xx (no file there, not sold to this order) says the same to the holder: nothing to get here.
    if (err instanceof AppError && err.status < 500) throw problem('link_gone');
    // Anything else failed on our side: the download did not happen, so it does not cost a use.
    await deps.downloadLinks.giveBackUse(token).catch(() => undefined);
    throw err;
  }
}
