import { describeError, type Knex } from '@market/common';
import type { ListingsDeps } from './deps';

// The bytes of goods files, removed once no listing points at them.

/**
 * The listing is being deleted in `trx`: its goods go with it, and once that commits, its file's bytes.
 * (Only an unsold listing is ever deleted, so no buyer is owed them.)
 */
export async function removeGoodsOf(deps: ListingsDeps, listingId: string, trx: Knex.Transaction): Promise<void> {
  const key = await deps.goods.remove(listingId, trx);
  if (key) trx.executionPromise.then(() => forgetFile(deps, key), () => undefined);
}

/** Best effort: bytes nobody points at any more are harmless, only wasted space. */
export async function forgetFile(deps: ListingsDeps, key: string): Promise<void> {
  await deps.goodsStore.remove(key).catch((err: unknown) => deps.logger.warn('could not remove the bytes of a goods file no listing uses; they stay stored', { key, err: describeError(err).message }));
}
