import type { Knex } from '@market/common';

/**
 * A buyer's recent coupon payment attempts (table coupon_attempts). An attempt is written before its
 * coupon is looked up and counts as a failure until it is forgotten, so parallel attempts see each
 * other: a burst cannot slip past the limit together. A crash in between leaves a row that counts
 * against the buyer until the window passes, which errs on the side of the limit.
 */
export class CouponAttemptRepository {
  constructor(private readonly db: Knex) {}

  async insert(id: string, buyerId: string, at: Date): Promise<void> {
    await this.db('coupon_attempts').insert({ id, buyer_id: buyerId, attempted_at: at });
  }

  async delete(id: string): Promise<void> {
    await this.db('coupon_attempts').where({ id }).del();
  }

  /**
   * When the `max`-th newest of the buyer's other attempts since `since` was made, or undefined when
   * there are fewer than `max` of them. One indexed read answers both "is the buyer over the limit"
   * and "until when".
   */
  async nthNewestSince(buyerId: string, exceptId: string, since: Date, max: number): Promise<Date | undefined> {
    const row = (await this.db('coupon_attempts')
      .select('attempted_at')
      .where({ buyer_id: buyerId })
      .where('attempted_at', '>', since)
      .whereNot({ id: exceptId })
      .orderBy('attempted_at', 'desc')
      .offset(max - 1)
      .first()) as { attempted_at: Date } | undefined;
    return row && new Date(row.attempted_at);
  }

  /** Attempts older than `before` no longer count for anyone. Run often, so each run removes few rows. */
  async deleteOlderThan(before: Date): Promise<number> {
    return this.db('coupon_attempts').where('attempted_at', '<=', before).del();
  }
}
