import { type contracts, notFound } from '@market/common';
import { publicGoods } from '../data-access/goods-repository';
import type { ListingsDeps } from './deps';
import { listingErrors } from './listing-errors';

/**
 * For orders-service, which hands the goods to the buyer of a complete order. It says which order, and
 * this service checks that the listing was sold to exactly that order: a listing's goods go to its sale's
 * order only, whoever asks. Whether that order still deserves them (not refunded) is orders-service's
 * to decide; it refuses a refunded order before asking here.
 */
async function assertSoldTo(deps: ListingsDeps, id: string, orderId: string): Promise<void> {
  const listing = await deps.listings.findById(id);
  if (!listing) throw notFound('The listing');
  if (listing.status !== 'sold' || listing.reservedOrderId !== orderId) throw listingErrors.notSoldToOrder();
}

/** What the seller attached to a listing sold to `orderId`: the text, and what the file is. */
export async function goodsOfOrder(deps: ListingsDeps, id: string, orderId: string): Promise<contracts.Goods> {
  await assertSoldTo(deps, id, orderId);
  return publicGoods(await deps.goods.find(id));
}

/** The file of a listing sold to `orderId`, its bytes in base64 for the trip over the broker. */
export async function goodsFileOfOrder(deps: ListingsDeps, id: string, orderId: string): Promise<contracts.GoodsFileContent> {
  await assertSoldTo(deps, id, orderId);
  const { file } = await deps.goods.find(id);
  const bytes = file ? await deps.goodsStore.read(file.key) : undefined;
  if (!file || !bytes) throw notFound('The file');
  return { name: file.name, contentType: file.contentType, contentBase64: bytes.toString('base64') };
}
