import { createHash, randomBytes } from 'node:crypto';
import { iso, type Knex, transact } from '@market/common';
import { DB_NOW } from './order-repository';

/** A new link: its token (given out once, never stored) and when it stops working. */
export interface NewDownloadLink {
  token: string;
  expiresAt: string;
}

/** Only the token's SHA-256 is kept: a copy of the table opens no download. 32 random bytes need no salt or slow hash. */
const hashOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * `download_links`: signed links to the file of a complete order. A link works `uses_left` more times
 * until `expires_at` (the database's clock, like every other time here), unless revoked (a refund) or
 * its order is no longer complete.
 */
export class DownloadLinkRepository {
  constructor(private readonly db: Knex) {}

  async create(orderId: string, ttlSeconds: number, maxUses: number): Promise<NewDownloadLink> {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashOf(token);
    await transact(this.db, async (trx) => {
      // Links that can no longer work are kept no longer: the table grows with the live links only.
      await trx('download_links').where({ order_id: orderId }).whereRaw(`expires_at <= ${DB_NOW}`).delete();
      await trx('download_links').insert({
        token_hash: tokenHash,
        order_id: orderId,
        expires_at: trx.raw(`${DB_NOW} + INTERVAL ? SECOND`, [ttlSeconds]),
        uses_left: maxUses,
        revoked_at: null,
        created_at: trx.raw(DB_NOW),
      });
    });
    const row = (await this.db('download_links').where({ token_hash: tokenHash }).first('expires_at')) as { expires_at: Date };
    return { token, expiresAt: iso(row.expires_at) };
  }

  /**
   * Takes one use of the link, as one conditional UPDATE: only while it has uses left, has not expired, is
   * not revoked and its order is still complete. Returns the order it is for, or undefined when it does not
   * work (whatever the reason: the answer must not tell a guesser which).
   */
  async takeUse(token: string): Promise<string | undefined> {
    const tokenHash = hashOf(token);
    const affected = await this.db('download_links')
      .where({ token_hash: tokenHash })
      .where('uses_left', '>', 0)
      .whereNull('revoked_at')
      .whereRaw(`expires_at > ${DB_NOW}`)
      .whereIn('order_id', (q) => q.select('id').from('orders').where({ status: 'complete' }))
      .decrement('uses_left', 1);
    if (affected !== 1) return undefined;
    const row = (await this.db('download_links').where({ token_hash: tokenHash }).first('order_id')) as { order_id: string } | undefined;
    return row?.order_id;
  }

  /** A use taken for a download that then failed on our side is given back (never past a revocation). */
  async giveBackUse(token: string): Promise<void> {
    await this.db('download_links').where({ token_hash: hashOf(token) }).whereNull('revoked_at').increment('uses_left', 1);
  }

  /** The order was refunded: every link to its file stops working, in the refund's transaction. */
  async revokeOfOrder(orderId: string, trx: Knex): Promise<void> {
    await trx('download_links').where({ order_id: orderId }).whereNull('revoked_at').update({ revoked_at: trx.raw(DB_NOW) });
  }
}
