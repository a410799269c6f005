import { randomUUID } from 'node:crypto';
import { type Actor, contracts, describeError, type Knex, notFound, transact } from '@market/common';
import { publicGoods } from '../data-access/goods-repository';
import type { ListingsDeps } from './deps';
import { listingErrors } from './listing-errors';

type Goods = contracts.Goods;

export interface NewGoodsFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

/**
 * The seller's listing, locked until `trx` ends when it is given: a sale (markSold updates the same row)
 * waits for a change of goods in progress, and a change of goods for a sale, so the goods a buyer paid
 * for are the ones attached when the listing sold. Anyone else is refused; after the sale, so is the seller.
 */
async function sellersUnsoldListing(deps: ListingsDeps, seller: Actor, id: string, trx?: Knex.Transaction): Promise<void> {
  const listing = await deps.listings.findById(id, trx, trx !== undefined);
  if (!listing) throw notFound('The listing');
  if (listing.sellerId !== seller.id) throw listingErrors.notGoodsSeller();
  if (listing.status === 'sold') throw listingErrors.sold();
}

/** The seller reads what they attached (also after the sale). */
export async function getGoods(deps: ListingsDeps, seller: Actor, id: string): Promise<Goods> {
  const listing = await deps.listings.findById(id);
  if (!listing) throw notFound('The listing');
  if (listing.sellerId !== seller.id) throw listingErrors.notGoodsSeller();
  return publicGoods(await deps.goods.find(id));
}

/** Attaches (or replaces) the text; the file, if any, stays. */
export async function putGoodsText(deps: ListingsDeps, seller: Actor, id: string, text: string): Promise<Goods> {
  return transact(deps.db, async (trx) => {
    await sellersUnsoldListing(deps, seller, id, trx);
    await deps.goods.putText(id, text, trx);
    return publicGoods(await deps.goods.find(id, trx));
  });
}

/**
 * Attaches (or replaces) the file; the text, if any, stays. The bytes are stored first under a new key,
 * then the goods row names that key in one transaction: a reader sees the old file or the new one, never
 * part of either. The bytes of the file replaced, or of one whose row never committed, are removed after.
 */
export async function putGoodsFile(deps: ListingsDeps, seller: Actor, id: string, file: NewGoodsFile): Promise<Goods> {
  if (file.bytes.length === 0) throw listingErrors.emptyFile();
  if (file.bytes.length > contracts.GOODS_FILE_MAX_BYTES) throw listingErrors.fileTooLarge(contracts.GOODS_FILE_MAX_BYTES);
  // Refused before anything is stored; asked again under the lock below.
  await sellersUnsoldListing(deps, seller, id);
  const key = randomUUID();
  await deps.goodsStore.put(key, file.bytes);
  let replaced: string | undefined;
  let goods: Goods;
  try {
    goods = await transact(deps.db, async (trx) => {
      await sellersUnsoldListing(deps, seller, id, trx);
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

/**
 * The listing is being deleted in `trx`: its goods go with it, and once that commits, its file's bytes.
 * (Only an unsold listing is ever deleted, so no buyer is owed them.)
 */
export async function removeGoodsOf(deps: ListingsDeps, listingId: string, trx: Knex.Transaction): Promise<void> {
  const key = await deps.goods.remove(listingId, trx);
  if (key) trx.executionPromise.then(() => forgetFile(deps, key), () => undefined);
}

/** Best effort: bytes nobody points at any more are harmless, only wasted space. */
async function forgetFile(deps: ListingsDeps, key: string): Promise<void> {
  await deps.goodsStore.remove(key).catch((err: unknown) => deps.logger.warn('could not remove the bytes of a goods file no listing uses; they stay stored', { key, err: describeError(err).message }));
}
