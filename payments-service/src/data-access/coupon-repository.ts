import { iso, type Knex } from '@market/common';

interface CouponRow {
  id: string;
  code: string;
  percent_off: number;
  max_redemptions: number | null;
  redemptions: number;
  expires_at: Date | null;
  created_by: string;
  created_at: Date;
}

/** A coupon as stored, with the admin who created it (`domain/coupon-view.ts` is what clients see). */
export interface CouponRecord {
  id: string;
  code: string;
  percentOff: number;
  maxRedemptions: number | null;
  redemptions: number;
  expiresAt: string | null;
  createdBy: string;
  createdAt: string;
}

const toRecord = (row: CouponRow): CouponRecord => ({
  id: row.id,
  code: row.code,
  percentOff: row.percent_off,
  maxRedemptions: row.max_redemptions,
  redemptions: row.redemptions,
  expiresAt: row.expires_at ? iso(row.expires_at) : null,
  createdBy: row.created_by,
  createdAt: iso(row.created_at),
});

export interface NewCoupon {
  id: string;
  code: string;
  percentOff: number;
  maxRedemptions: number | null;
  expiresAt: Date | null;
  createdBy: string;
}

/**
 * A redemption is counted while a payment using the coupon is pending or succeeded; the payment row
 * (its coupon_code) is the record of it, and the payment's one-time status change gives it back.
 */
export class CouponRepository {
  constructor(private readonly db: Knex) {}

  /** Fails with ER_DUP_ENTRY when the code is taken. */
  async insert(c: NewCoupon): Promise<CouponRecord> {
    const now = new Date();
    await this.db('coupons').insert({
      id: c.id,
      code: c.code,
      percent_off: c.percentOff,
      max_redemptions: c.maxRedemptions,
      redemptions: 0,
      expires_at: c.expiresAt,
      created_by: c.createdBy,
      created_at: now,
    });
    return {
      id: c.id,
      code: c.code,
      percentOff: c.percentOff,
      maxRedemptions: c.maxRedemptions,
      redemptions: 0,
      expiresAt: c.expiresAt ? c.expiresAt.toISOString() : null,
      createdBy: c.createdBy,
      createdAt: now.toISOString(),
    };
  }

  async findByCode(code: string, trx: Knex = this.db): Promise<CouponRecord | undefined> {
    const row = (await trx('coupons').where({ code }).first()) as CouponRow | undefined;
    return row && toRecord(row);
  }

  async list(limit: number, offset: number): Promise<{ items: CouponRecord[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db('coupons').orderBy([{ column: 'created_at', order: 'desc' }, 'id']).limit(limit).offset(offset) as Promise<CouponRow[]>,
      this.db('coupons').count({ n: '*' }).first() as Promise<{ n: number } | undefined>,
    ]);
    return { items: rows.map(toRecord), total: Number(count?.n ?? 0) };
  }

  /**
   * Takes one redemption, as a single conditional UPDATE: with one redemption left and many buyers,
   * the row lock lets exactly one of them through. `now` comes from this process rather than NOW(3),
   * whose value depends on the session time zone while expires_at is stored in UTC.
   */
  async redeem(code: string, now: Date, trx: Knex): Promise<boolean> {
    const affected = await trx('coupons')
      .where({ code })
      .where((q) => void q.whereNull('max_redemptions').orWhere('redemptions', '<', trx.ref('max_redemptions')))
      .where((q) => void q.whereNull('expires_at').orWhere('expires_at', '>', now))
      .increment('redemptions', 1);
    return affected === 1;
  }

  /** Gives a redemption back; the caller makes sure this happens once per redemption. */
  async giveBack(code: string, trx: Knex): Promise<void> {
    await trx('coupons').where({ code }).where('redemptions', '>', 0).decrement('redemptions', 1);
  }
}
