import { iso, type Knex } from '@market/common';

export type OrderStatus = 'pending' | 'complete' | 'cancelled' | 'expired' | 'refunded';

/**
 * Every time an order's hold is set or compared, it is the database's clock that is read: replicas of
 * this service (and the tests) may disagree by some milliseconds, the one database never disagrees
 * with itself. UTC_TIMESTAMP, not NOW(): the columns hold UTC whatever the server's time zone.
 */
export const DB_NOW = 'UTC_TIMESTAMP(3)';

interface OrderRow {
  id: string;
  buyer_id: string;
  listing_id: string;
  price_cents: number;
  currency: string;
  status: OrderStatus;
  pending_listing_id: string | null;
  listing_released: number | boolean;
  listing_sold_confirmed: number | boolean;
  handed_over_from: string | null;
  listing_transferred: number | boolean;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
}

/** An order as stored, with the bookkeeping that never leaves the service (`domain/order-view.ts`). */
export interface OrderRecord {
  id: string;
  buyerId: string;
  listingId: string;
  priceCents: number;
  currency: string;
  status: OrderStatus;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  listingReleased: boolean;
  listingSoldConfirmed: boolean;
  /** The order whose reservation this one took over from the waiting list; null for a checkout's order. */
  handedOverFrom: string | null;
  /** False until listings-service confirmed that the reservation moved to this order. */
  listingTransferred: boolean;
}

const toRecord = (row: OrderRow): OrderRecord => ({
  id: row.id,
  buyerId: row.buyer_id,
  listingId: row.listing_id,
  priceCents: row.price_cents,
  currency: row.currency,
  status: row.status,
  expiresAt: iso(row.expires_at),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  listingReleased: Boolean(row.listing_released),
  listingSoldConfirmed: Boolean(row.listing_sold_confirmed),
  handedOverFrom: row.handed_over_from,
  listingTransferred: Boolean(row.listing_transferred),
});

export interface NewOrder {
  id: string;
  buyerId: string;
  listingId: string;
  priceCents: number;
  currency: string;
}

/** A listing the buyer holds (a pending order) or is checking out (a reservation attempt): `orderId` is the order's id either way. */
export interface BuyerHold {
  orderId: string;
  listingId: string;
}

/** The orders that sold their listing: paid, whether or not the money was later refunded. */
const SOLD_STATUSES: readonly OrderStatus[] = ['complete', 'refunded'];

/** What a conditional transition out of `pending` also requires. */
export interface TransitionGuard {
  buyerId?: string;
  /** `due`: only once the hold has ended; `unexpired`: only while it lasts. */
  hold?: 'due' | 'unexpired';
}

export class OrderRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Inserts a pending order whose hold ends `ttlSeconds` from now on the database clock. `handedOverFrom`:
   * it takes over that order's reservation, which listings-service has yet to move to it.
   */
  async insertPending(order: NewOrder, ttlSeconds: number, trx: Knex, handedOverFrom?: string): Promise<OrderRecord> {
    // One statement: UTC_TIMESTAMP is fixed for its duration, so expires_at - created_at is exactly the TTL.
    await trx('orders').insert({
      id: order.id,
      buyer_id: order.buyerId,
      listing_id: order.listingId,
      price_cents: order.priceCents,
      currency: order.currency,
      status: 'pending',
      pending_listing_id: order.listingId,
      listing_released: false,
      listing_sold_confirmed: false,
      handed_over_from: handedOverFrom ?? null,
      listing_transferred: handedOverFrom === undefined,
      expires_at: trx.raw(`${DB_NOW} + INTERVAL ? SECOND`, [ttlSeconds]),
      created_at: trx.raw(DB_NOW),
      updated_at: trx.raw(DB_NOW),
    });
    return (await this.findById(order.id, trx)) as OrderRecord;
  }

  async findById(id: string, trx: Knex = this.db): Promise<OrderRecord | undefined> {
    const row = (await trx('orders').where({ id }).first()) as OrderRow | undefined;
    return row && toRecord(row);
  }

  async listOfBuyer(buyerId: string, status: OrderStatus | undefined, limit: number, offset: number): Promise<{ items: OrderRecord[]; total: number }> {
    const where = (q: Knex.QueryBuilder): Knex.QueryBuilder => {
      q.where('buyer_id', buyerId);
      if (status) q.where('status', status);
      return q;
    };
    const [rows, count] = await Promise.all([
      where(this.db('orders')).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit).offset(offset) as Promise<OrderRow[]>,
      where(this.db('orders')).count({ n: '*' }).first() as Promise<{ n: number } | undefined>,
    ]);
    return { items: rows.map(toRecord), total: Number(count?.n ?? 0) };
  }

  /**
   * pending → `to` as one conditional UPDATE: of a cancel, an expiry and a payment racing for the same
   * order exactly one changes the row; the others see 0 rows and report why. Never to `refunded`: only a
   * complete order is refunded (markRefunded).
   */
  async leavePending(id: string, to: Exclude<OrderStatus, 'pending' | 'refunded'>, guard: TransitionGuard, trx: Knex): Promise<boolean> {
    const query = trx('orders').where({ id, status: 'pending' });
    if (guard.buyerId !== undefined) query.where('buyer_id', guard.buyerId);
    if (guard.hold === 'due') query.whereRaw(`expires_at <= ${DB_NOW}`);
    if (guard.hold === 'unexpired') query.whereRaw(`expires_at > ${DB_NOW}`);
    const affected = await query.update({
      status: to,
      pending_listing_id: null,
      updated_at: trx.raw(DB_NOW),
      // The buyer's own decision starts the listing's rehold cooldown; an expiry does not.
      ...(to === 'cancelled' ? { cancelled_at: trx.raw(DB_NOW) } : {}),
    });
    return affected === 1;
  }

  /**
   * complete → refunded as one conditional UPDATE, only for the order's buyer: of two refunds racing (the
   * RPC and the payment's event) exactly one changes the row; the other sees 0 rows. The listing's
   * bookkeeping is left as it is: the goods stay sold.
   */
  async markRefunded(id: string, buyerId: string, trx: Knex): Promise<boolean> {
    const affected = await trx('orders').where({ id, buyer_id: buyerId, status: 'complete' }).update({ status: 'refunded', updated_at: trx.raw(DB_NOW) });
    return affected === 1;
  }

  /**
   * The order as last committed, whatever snapshot the caller's transaction reads from (a locking read,
   * held until it ends): after a conditional UPDATE that changed nothing, a plain read could still show
   * the state a concurrent transaction has just changed.
   */
  async findCurrent(id: string, trx: Knex.Transaction): Promise<OrderRecord | undefined> {
    const row = (await trx('orders').where({ id }).first().forUpdate()) as OrderRow | undefined;
    return row && toRecord(row);
  }

  /** Milliseconds until the hold of `id` ends by the database clock (negative once it has). */
  async msUntilExpiry(id: string): Promise<number | undefined> {
    const row = (await this.db('orders')
      .where({ id })
      .first(this.db.raw(`TIMESTAMPDIFF(MICROSECOND, ${DB_NOW}, expires_at) AS us`))) as { us: number | string } | undefined;
    return row === undefined ? undefined : Number(row.us) / 1000;
  }

  /** `trx`: a hand-over notes in its own transaction that the old order's listing needs no release. */
  async markListingReleased(id: string, trx: Knex = this.db): Promise<void> {
    await trx('orders').where({ id }).update({ listing_released: true });
  }

  async markListingTransferred(id: string): Promise<void> {
    await this.db('orders').where({ id }).update({ listing_transferred: true });
  }

  /** Handed-over orders whose reservation listings-service has not confirmed as moved to them, oldest first. */
  async awaitingTransfer(limit: number): Promise<OrderRecord[]> {
    const rows = (await this.db('orders').where('listing_transferred', false).orderBy('created_at').limit(limit)) as OrderRow[];
    return rows.map(toRecord);
  }

  /** The order holding the listing now, if any (read in the caller's transaction). */
  async pendingOfListing(listingId: string, trx: Knex): Promise<OrderRecord | undefined> {
    const row = (await trx('orders').where({ pending_listing_id: listingId }).first()) as OrderRow | undefined;
    return row && toRecord(row);
  }

  /**
   * Whether an order for the listing was paid: a listing is sold only through this service. A refunded
   * order's listing stays sold too (the goods were handed over; the refund only returned the money).
   */
  async listingWasSold(listingId: string, trx: Knex): Promise<boolean> {
    return (await trx('orders').where({ listing_id: listingId }).whereIn('status', SOLD_STATUSES).first('id')) !== undefined;
  }

  async markListingSoldConfirmed(id: string): Promise<void> {
    await this.db('orders').where({ id }).update({ listing_sold_confirmed: true });
  }

  /** Pending orders whose hold has ended, oldest first. */
  async dueForExpiry(limit: number): Promise<string[]> {
    const rows = (await this.db('orders').where('status', 'pending').whereRaw(`expires_at <= ${DB_NOW}`).orderBy('expires_at').limit(limit).select('id')) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Cancelled or expired orders whose listing release listings-service has not confirmed. */
  async awaitingRelease(limit: number): Promise<OrderRecord[]> {
    const rows = (await this.db('orders').where('listing_released', false).whereIn('status', ['cancelled', 'expired']).orderBy('updated_at').limit(limit)) as OrderRow[];
    return rows.map(toRecord);
  }

  /**
   * Paid orders (complete, or refunded since) whose listing listings-service has not confirmed as sold:
   * a refund that lands before the sale was confirmed must not leave the listing reserved for ever.
   */
  async awaitingSoldMark(limit: number): Promise<OrderRecord[]> {
    const rows = (await this.db('orders').where({ listing_sold_confirmed: false }).whereIn('status', SOLD_STATUSES).orderBy('updated_at').limit(limit)) as OrderRow[];
    return rows.map(toRecord);
  }

  // --- a buyer's holds: pending orders and checkouts in flight ---

  /**
   * Creates the buyer's lock row if it is missing. Call it on its own, before the transaction that locks
   * the row: two transactions that both inserted (or met) the row and then locked it would deadlock on
   * InnoDB's shared duplicate-key locks, and a transaction that ran it on a second connection would hold
   * one pool connection while waiting for another.
   */
  async ensureBuyerLock(buyerId: string): Promise<void> {
    await this.db('buyer_locks').insert({ buyer_id: buyerId }).onConflict('buyer_id').ignore();
  }

  /** Locks the buyer's row (ensureBuyerLock first) until the caller's transaction ends. */
  async lockBuyer(buyerId: string, trx: Knex.Transaction): Promise<void> {
    await trx('buyer_locks').where({ buyer_id: buyerId }).first('buyer_id').forUpdate();
  }

  /** What the buyer holds or is about to: their pending orders and their reservation attempts in flight. */
  async holdsOf(buyerId: string, trx: Knex): Promise<BuyerHold[]> {
    const rows = (await trx
      .select({ orderId: 'id', listingId: 'listing_id' })
      .from('orders')
      .where({ buyer_id: buyerId, status: 'pending' })
      .unionAll((q) => q.select({ orderId: 'order_id', listingId: 'listing_id' }).from('reservation_attempts').where({ buyer_id: buyerId }))) as BuyerHold[];
    return rows;
  }

  /**
   * When the buyer may hold the listing again, if they cancelled an order for it less than
   * `cooldownSeconds` ago (by the database clock); undefined when they may at once.
   */
  async reholdAllowedAt(buyerId: string, listingId: string, cooldownSeconds: number, trx: Knex): Promise<{ at: string; secondsLeft: number } | undefined> {
    const row = (await trx('orders')
      .where({ buyer_id: buyerId, listing_id: listingId, status: 'cancelled' })
      .whereRaw(`cancelled_at > ${DB_NOW} - INTERVAL ? SECOND`, [cooldownSeconds])
      .first(
        trx.raw('MAX(cancelled_at) + INTERVAL ? SECOND AS allowed_at', [cooldownSeconds]),
        trx.raw(`TIMESTAMPDIFF(MICROSECOND, ${DB_NOW}, MAX(cancelled_at) + INTERVAL ? SECOND) AS us_left`, [cooldownSeconds]),
      )) as { allowed_at: Date | null; us_left: number | string | null } | undefined;
    if (!row?.allowed_at) return undefined;
    return { at: iso(row.allowed_at), secondsLeft: Math.max(1, Math.ceil(Number(row.us_left) / 1_000_000)) };
  }

  // --- reservation attempts: a reservation in listings-service that has no order (yet) ---

  async recordAttempt(orderId: string, listingId: string, buyerId: string, trx: Knex): Promise<void> {
    await trx('reservation_attempts').insert({ order_id: orderId, listing_id: listingId, buyer_id: buyerId, created_at: trx.raw(DB_NOW) });
  }

  /** Removes the attempt; false when it was not there (the sweep already released its reservation). */
  async deleteAttempt(orderId: string, trx: Knex = this.db): Promise<boolean> {
    return (await trx('reservation_attempts').where({ order_id: orderId }).delete()) === 1;
  }

  async staleAttempts(olderThanSeconds: number, limit: number): Promise<string[]> {
    const rows = (await this.db('reservation_attempts')
      .whereRaw(`created_at < ${DB_NOW} - INTERVAL ? SECOND`, [olderThanSeconds])
      .orderBy('created_at')
      .limit(limit)
      .select('order_id')) as { order_id: string }[];
    return rows.map((r) => r.order_id);
  }

  /**
   * Locks a stale attempt for the caller's transaction, or returns undefined when it is gone or locked.
   * While it is locked, the create request it belongs to cannot commit its order (it deletes this row).
   */
  async lockStaleAttempt(orderId: string, olderThanSeconds: number, trx: Knex.Transaction): Promise<{ listingId: string } | undefined> {
    const row = (await trx('reservation_attempts')
      .where({ order_id: orderId })
      .whereRaw(`created_at < ${DB_NOW} - INTERVAL ? SECOND`, [olderThanSeconds])
      .first('listing_id')
      .forUpdate()
      .skipLocked()) as { listing_id: string } | undefined;
    return row && { listingId: row.listing_id };
  }
}
