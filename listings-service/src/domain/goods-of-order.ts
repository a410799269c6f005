import type { contracts } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicGoods } from './goods-view';
import { assertSoldTo } from './listing-guards';

/** What the seller attached to a listing sold to `orderId`: the text, and what the file is. */
export async function goodsOfOrder(deps: ListingsDeps, id: string, orderId: string): Promise<contracts.Goods> {
  await assertSoldTo(deps, id, orderId);
  return publicGoods(await deps.goods.find(id));
}
