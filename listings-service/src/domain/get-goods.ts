import { type Actor, type contracts, problem } from '@market/common';
import type { ListingsDeps } from './deps';
import { publicGoods } from './goods-view';

/** The seller reads what they attached (also after the sale). */
export async function getGoods(deps: ListingsDeps, seller: Actor, id: string): Promise<contracts.Goods> {
  const listing = await deps.listings.findById(id);
  if (!listing) throw problem('not_found', 'The listing');
  if (listing.sellerId !== seller.id) throw problem('not_listing_seller', 'goods');
  return publicGoods(await deps.goods.find(id));
}
