import { type contracts, problem } from '@market/common';
import type { ListingsDeps } from './deps';
import { assertSoldTo } from './listing-guards';

/** The file of a listing sold to `orderId`, its bytes in base64 for the trip over the broker. */
export async function goodsFileOfOrder(deps: ListingsDeps, id: string, orderId: string): Promise<contracts.GoodsFileContent> {
  await assertSoldTo(deps, id, orderId);
  const { file } = await deps.goods.find(id);
  const bytes = file ? await deps.goodsStore.read(file.key) : undefined;
  if (!file || !bytes) throw problem('not_found', 'The file');
  return { name: file.name, contentType: file.contentType, contentBase64: bytes.toString('base64') };
}
