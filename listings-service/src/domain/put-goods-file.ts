import { randomUUID } from 'node:crypto';
import { type Actor, contracts, problem, transact } from '@market/common';
import type { ListingsDeps } from './deps';
import { forgetFile } from './goods-files';
import { publicGoods } from './goods-view';
import { assertSellersUnsoldListing } from './listing-guards';

export interface NewGoodsFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

/**
 * Attaches (or replaces) the file; the text, if any, stays. The bytes are stored first under a new key,
 * then the goods row names that key in one transaction: a reader sees the old file or the new one, never
 * part of either. The bytes of the file replaced, or of one whose row never committed, are removed after.
 */
export async function putGoodsFile(deps: ListingsDeps, seller: Actor, id: string, file: NewGoodsFile): Promise<contracts.Goods> {
  if (file.bytes.length === 0) throw problem('empty_file');
  if (file.bytes.length > contracts.GOODS_FILE_MAX_BYTES) throw problem('payload_too_large', 'file', contracts.GOODS_FILE_MAX_BYTES);
  // Refused before anything is stored; asked again under the lock below.
  await assertSellersUnsoldListing(deps, seller, id);
  const key = randomUUID();
  await deps.goodsStore.put(key, file.bytes);
  let replaced: string | undefined;
  let goods: contracts.Goods;
  try {
    goods = await transact(deps.db, async (trx) => {
      await assertSellersUnsoldListing(deps, seller, id, trx);
      replaced = (await deps.goods.find(id, trx)).file?.key;
      await deps.goods.putFile(id, { key, name: file.name, size: file.bytes.length, contentType: file.contentType }, trx);
      return publicGoods(await deps.goods.find(id, trx));
    });
  } catch (err) {
    await forgetFile(deps, key);
    throw err;
  }
  if (replaced) await forgetFile(deps, replaced);
  return goods;
}
