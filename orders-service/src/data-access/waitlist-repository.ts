import { iso, type Knex } from '@market/common';
import { DB_NOW } from './order-repository';

interface EntryRow {
  id: number | string;
  listing_id: string;
  buyer_id: string;
  joined_at: Date;
}

/** A person in a listing's line; `id` is their place in the join order. */
export interface WaitlistEntryRecord {
  id: number;
  listingId: string;
  buyerId: string;
  joinedAt: string;
}

/** One of a person's places, with how many are in line up to and including them. */
export interface WaitlistPlaceRecord {
  listingId: string;
  position: number;
  joinedAt: string;
}

const toRecord = (row: EntryRow): WaitlistEntryRecord => ({ id: Number(row.id), listingId: row.listing_id, buyerId: row.buyer_id, joinedAt: iso(row.joined_at) });

export class WaitlistRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Creates the listing's lock row if it is missing. On its own, before the transaction that locks it
   * (the same reason as the buyer's lock row: two transactions that both met the row by inserting it and
   * then locked it would deadlock).
   */
  async ensureListingLock(listingId: string): Promise<void> {
    await this.db('listing_locks').insert({ listing_id: listingId }).onConflict('listing_id').ignore();
  }

  /** Locks the listing's row (ensureListingLock first) until the caller's transaction ends. */
  async lockListing(listingId: string, trx: Knex.Transaction): Promise<void> {
    await trx('listing_locks').where({ listing_id: listingId }).first('listing_id').forUpdate();
  }

  async insert(listingId: string, buyerId: string, trx: Knex): Promise<WaitlistEntryRecord> {
    await trx('waitlist_entries').insert({ listing_id: listingId, buyer_id: buyerId, joined_at: trx.raw(DB_NOW) });
    return (await this.find(listingId, buyerId, trx)) as WaitlistEntryRecord;
  }

  async find(listingId: string, buyerId: string, trx: Knex = this.db): Promise<WaitlistEntryRecord | undefined> {
    const row = (await trx('waitlist_entries').where({ listing_id: listingId, buyer_id: buyerId }).first()) as EntryRow | undefined;
    return row && toRecord(row);
  }

  /** Removes the person from the line; false when they were not in it. */
  async remove(listingId: string, buyerId: string, trx: Knex = this.db): Promise<boolean> {
    return (await trx('waitlist_entries').where({ listing_id: listingId, buyer_id: buyerId }).delete()) > 0;
  }

  async removeById(id: number, trx: Knex): Promise<void> {
    await trx('waitlist_entries').where({ id }).delete();
  }

  async lengthOf(listingId: string, trx: Knex): Promise<number> {
    const row = (await trx('waitlist_entries').where({ listing_id: listingId }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  async countOfBuyer(buyerId: string, trx: Knex): Promise<number> {
    const row = (await trx('waitlist_entries').where({ buyer_id: buyerId }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /** 1 for the first in line: how many of the listing's entries joined no later than this one. */
  async positionOf(entry: WaitlistEntryRecord, trx: Knex = this.db): Promise<number> {
    const row = (await trx('waitlist_entries').where('listing_id', entry.listingId).where('id', '<=', entry.id).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /** The first in line, locked for the caller's transaction (a leave racing the hand-over waits for it). */
  async firstInLine(listingId: string, trx: Knex.Transaction): Promise<WaitlistEntryRecord | undefined> {
    const row = (await trx('waitlist_entries').where({ listing_id: listingId }).orderBy('id').first().forUpdate()) as EntryRow | undefined;
    return row && toRecord(row);
  }

  /** Empties the line (the listing sold); returns who was in it. */
  async clear(listingId: string, trx: Knex.Transaction): Promise<string[]> {
    const rows = (await trx('waitlist_entries').where({ listing_id: listingId }).orderBy('id').select('buyer_id').forUpdate()) as { buyer_id: string }[];
    if (rows.length) await trx('waitlist_entries').where({ listing_id: listingId }).delete();
    return rows.map((r) => r.buyer_id);
  }

  /** The person's places, each with its current position, oldest first. */
  async placesOf(buyerId: string): Promise<WaitlistPlaceRecord[]> {
    const rows = (await this.db('waitlist_entries as mine')
      .where('mine.buyer_id', buyerId)
      .select('mine.listing_id', 'mine.joined_at')
      .select(this.db.raw('(SELECT COUNT(*) FROM waitlist_entries AS ahead WHERE ahead.listing_id = mine.listing_id AND ahead.id <= mine.id) AS position'))
      .orderBy('mine.id')) as { listing_id: string; joined_at: Date; position: number | string }[];
    return rows.map((r) => ({ listingId: r.listing_id, position: Number(r.position), joinedAt: iso(r.joined_at) }));
  }
}
