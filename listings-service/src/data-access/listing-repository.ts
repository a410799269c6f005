import { iso, type Knex } from '@market/common';

export type ListingStatus = 'available' | 'reserved' | 'sold';

interface ListingRow {
  id: string;
  seller_id: string;
  title: string;
  description: string;
  price_cents: number;
  currency: string;
  status: ListingStatus;
  reserved_order_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A listing as stored, with the order holding its reservation (`domain/listing-view.ts` decides who sees what). */
export interface ListingRecord {
  id: string;
  sellerId: string;
  title: string;
  description: string;
  priceCents: number;
  currency: string;
  status: ListingStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  reservedOrderId: string | null;
}

const toRecord = (row: ListingRow): ListingRecord => ({
  id: row.id,
  sellerId: row.seller_id,
  title: row.title,
  description: row.description,
  priceCents: row.price_cents,
  currency: row.currency,
  status: row.status,
  version: row.version,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  reservedOrderId: row.reserved_order_id,
});

export interface ListingFilter {
  status?: ListingStatus | undefined;
  sellerId?: string | undefined;
  /** Contained in the title or the description. */
  text?: string | undefined;
}

/** `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `\` taken literally. */
const containing = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

export class ListingRepository {
  constructor(private readonly db: Knex) {}

  async insert(listing: Omit<ListingRecord, 'createdAt' | 'updatedAt' | 'version' | 'status' | 'reservedOrderId'>, trx: Knex): Promise<ListingRecord> {
    const now = new Date();
    await trx('listings').insert({
      id: listing.id,
      seller_id: listing.sellerId,
      title: listing.title,
      description: listing.description,
      price_cents: listing.priceCents,
      currency: listing.currency,
      status: 'available',
      version: 1,
      created_at: now,
      updated_at: now,
    });
    return { ...listing, status: 'available', version: 1, reservedOrderId: null, createdAt: now.toISOString(), updatedAt: now.toISOString() };
  }

  async findById(id: string, trx: Knex = this.db, forUpdate = false): Promise<ListingRecord | undefined> {
    const query = trx('listings').where({ id }).first();
    const row = (await (forUpdate ? query.forUpdate() : query)) as ListingRow | undefined;
    return row && toRecord(row);
  }

  async list(filter: ListingFilter, limit: number, offset: number): Promise<{ items: ListingRecord[]; total: number }> {
    const where = (q: Knex.QueryBuilder): Knex.QueryBuilder => {
      if (filter.status) q.where('status', filter.status);
      if (filter.sellerId) q.where('seller_id', filter.sellerId);
      if (filter.text) {
        const pattern = containing(filter.text);
        // Case-insensitive through the columns' collation (utf8mb4_unicode_ci, the database's default).
        q.where((w) => w.whereRaw('title LIKE ? ESCAPE ?', [pattern, '\\']).orWhereRaw('description LIKE ? ESCAPE ?', [pattern, '\\']));
      }
      return q;
    };
    const [rows, count] = await Promise.all([
      where(this.db('listings')).orderBy([{ column: 'created_at', order: 'desc' }, 'id']).limit(limit).offset(offset) as Promise<ListingRow[]>,
      where(this.db('listings')).count({ n: '*' }).first() as Promise<{ n: number } | undefined>,
    ]);
    return { items: rows.map(toRecord), total: Number(count?.n ?? 0) };
  }

  /** Applies `changes` only while the listing is available at `version`; returns whether it did. */
  async updateIfAvailable(id: string, version: number, changes: { title?: string; description?: string; priceCents?: number }, trx: Knex): Promise<boolean> {
    const affected = await trx('listings')
      .where({ id, version, status: 'available' })
      .update({
        ...(changes.title !== undefined ? { title: changes.title } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.priceCents !== undefined ? { price_cents: changes.priceCents } : {}),
        version: trx.raw('version + 1'),
        updated_at: new Date(),
      });
    return affected === 1;
  }

  async deleteIfAvailable(id: string, trx: Knex): Promise<boolean> {
    return (await trx('listings').where({ id, status: 'available' }).delete()) === 1;
  }

  /** The reservation itself: one conditional UPDATE, so two buyers can never both win. */
  async reserve(id: string, orderId: string, buyerId: string, trx: Knex): Promise<boolean> {
    const affected = await trx('listings')
      .where({ id, status: 'available' })
      .whereNot('seller_id', buyerId)
      .update({ status: 'reserved', reserved_order_id: orderId, version: trx.raw('version + 1'), updated_at: new Date() });
    return affected === 1;
  }

  async release(id: string, orderId: string, trx: Knex): Promise<boolean> {
    const affected = await trx('listings')
      .where({ id, status: 'reserved', reserved_order_id: orderId })
      .update({ status: 'available', reserved_order_id: null, version: trx.raw('version + 1'), updated_at: new Date() });
    return affected === 1;
  }

  async markSold(id: string, orderId: string, trx: Knex): Promise<boolean> {
    const affected = await trx('listings')
      .where({ id, status: 'reserved', reserved_order_id: orderId })
      .update({ status: 'sold', version: trx.raw('version + 1'), updated_at: new Date() });
    return affected === 1;
  }

  /**
   * The reservation passes from one order to the next (a waiting list's hand-over) without the listing
   * ever being available. Nothing public changes (the listing stays reserved), so neither do version
   * and updated_at: an edit in flight is not refused for it, and cached copies stay true.
   */
  async transfer(id: string, fromOrderId: string, toOrderId: string, trx: Knex): Promise<boolean> {
    const affected = await trx('listings').where({ id, status: 'reserved', reserved_order_id: fromOrderId }).update({ reserved_order_id: toOrderId });
    return affected === 1;
  }

  async availableOfSeller(sellerId: string, trx: Knex): Promise<ListingRecord[]> {
    return ((await trx('listings').where({ seller_id: sellerId, status: 'available' }).forUpdate()) as ListingRow[]).map(toRecord);
  }

  async deleteById(id: string, trx: Knex): Promise<void> {
    await trx('listings').where({ id }).delete();
  }

  async recordDeletedSeller(sellerId: string, trx: Knex): Promise<void> {
    await trx('deleted_sellers').insert({ seller_id: sellerId, deleted_at: new Date() }).onConflict('seller_id').ignore();
  }

  async isDeletedSeller(sellerId: string, trx: Knex): Promise<boolean> {
    return (await trx('deleted_sellers').where({ seller_id: sellerId }).first()) !== undefined;
  }
}
