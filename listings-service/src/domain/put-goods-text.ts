import { type Actor, type contracts, transact } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicGoods } from './goods-view';
import { assertSellersUnsoldListing } from './listing-guards';

/** Attaches (or replaces) the text; the file, if any, stays. */
export async function putGoodsText(deps: ListingsDeps, seller: Actor, id: string, text: string): Promise<contracts.Goods> {
  return transact(deps.db, async (trx) => {
    await assertSellersUnsoldListing(deps, seller, id, trx);
    await deps.goods.putText(id, text, trx);
    return publicGoods(await deps.goods.find(id, trx));
  });
}
