import { eventTablesMigrations, type Migration } from '@market/common';

export const migrations: Migration[] = [
  ...eventTablesMigrations,
  {
    name: '001_orders',
    async up(db) {
      await db.schema.createTable('orders', (t) => {
        t.uuid('id').primary();
        t.uuid('buyer_id').notNullable();
        t.uuid('listing_id').notNullable();
        // The price the listing had when it was reserved: a later edit never changes what the buyer pays.
        t.integer('price_cents').unsigned().notNullable();
        t.specificType('currency', 'CHAR(3)').notNullable();
        t.enum('status', ['pending', 'complete', 'cancelled', 'expired']).notNullable();
        // = listing_id while pending, NULL otherwise: the UNIQUE index allows at most one pending order
        // per listing whatever the concurrency (MySQL/MariaDB let a UNIQUE index hold many NULLs).
        t.uuid('pending_listing_id').nullable().unique();
        // Whether listings-service confirmed the release (cancelled/expired) or the sale (complete);
        // the sweep retries the ones that are not confirmed, so a listings outage never strands a listing.
        t.boolean('listing_released').notNullable().defaultTo(false);
        t.boolean('listing_sold_confirmed').notNullable().defaultTo(false);
        t.datetime('expires_at', { precision: 3 }).notNullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
        t.index(['buyer_id', 'created_at']);
        t.index(['status', 'expires_at']);
        t.index(['listing_released', 'status']);
        t.index(['listing_sold_confirmed', 'status']);
      });
      // Written before a listing is reserved and deleted in the transaction that records the order: a row
      // that outlives its create request is a reservation without an order (a crash, a timeout, a failed
      // insert), and the sweep releases it. Without it nothing on the orders side would know of it.
      await db.schema.createTable('reservation_attempts', (t) => {
        t.uuid('order_id').primary();
        t.uuid('listing_id').notNullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.index(['created_at']);
      });
    },
    async down(db) {
      await db.schema.dropTable('reservation_attempts');
      await db.schema.dropTable('orders');
    },
  },
  {
    // What bounds a buyer's holds: their pending orders and checkouts in flight are counted under a lock
    // of their own, and a cancellation's time starts the cooldown before they may hold that listing again.
    name: '002_buyer_hold_limits',
    async up(db) {
      // One row per buyer who ever ordered, locked (SELECT ... FOR UPDATE) by each of their checkouts
      // while it counts their holds and records its attempt: a buyer's checkouts take turns there, so
      // parallel ones can never all see room for one more. Other buyers never wait on it.
      await db.schema.createTable('buyer_locks', (t) => {
        t.uuid('buyer_id').primary();
      });
      // An attempt in flight is a hold about to exist, so it counts against the buyer's limit. NULL only
      // for attempts written before this migration, which the limit cannot see (they end within seconds).
      await db.schema.alterTable('reservation_attempts', (t) => {
        t.uuid('buyer_id').nullable();
        t.index(['buyer_id', 'listing_id']);
      });
      // Set when the buyer cancels (never when an order expires): the start of that listing's cooldown.
      await db.schema.alterTable('orders', (t) => {
        t.datetime('cancelled_at', { precision: 3 }).nullable();
        // A buyer's pending orders (the limit, "already holding") and cancellations of one listing (the cooldown).
        t.index(['buyer_id', 'status', 'listing_id']);
      });
      // A cancelled order's updated_at is the moment it was cancelled: nothing changes it after that.
      await db('orders').where({ status: 'cancelled' }).update({ cancelled_at: db.ref('updated_at') });
    },
    async down(db) {
      await db.schema.alterTable('orders', (t) => {
        t.dropIndex(['buyer_id', 'status', 'listing_id']);
        t.dropColumn('cancelled_at');
      });
      await db.schema.alterTable('reservation_attempts', (t) => {
        t.dropIndex(['buyer_id', 'listing_id']);
        t.dropColumn('buyer_id');
      });
      await db.schema.dropTable('buyer_locks');
    },
  },
  {
    // A fair waiting list per held listing: when a hold ends unpaid the listing passes straight to the
    // first person in line, as a new pending order that takes over the old order's reservation.
    name: '003_waitlist',
    async up(db) {
      // The auto-increment id is the join order: joins of one listing take turns on its lock row, so ids
      // are handed out in the order people got in line.
      await db.schema.createTable('waitlist_entries', (t) => {
        t.bigIncrements('id');
        t.uuid('listing_id').notNullable();
        t.uuid('buyer_id').notNullable();
        t.datetime('joined_at', { precision: 3 }).notNullable();
        t.unique(['listing_id', 'buyer_id']);
        // A line read in order: without it, "first in line" walked the primary key and locked other
        // listings' places on the way, and two hand-overs of different listings deadlocked.
        t.index(['listing_id', 'id']);
        t.index(['buyer_id']);
      });
      // One row per listing that ever had a line or a hand-over, locked (SELECT ... FOR UPDATE) by every
      // change that decides who holds the listing next: a join, the end of a hold, a sale. So a join never
      // lands in a line whose listing has just been released, and a hand-over happens once.
      await db.schema.createTable('listing_locks', (t) => {
        t.uuid('listing_id').primary();
      });
      await db.schema.alterTable('orders', (t) => {
        // The order whose reservation this one took over (a hand-over); NULL for an order placed by checkout.
        t.uuid('handed_over_from').nullable();
        // Whether listings-service confirmed that the reservation moved to this order; the sweep finishes
        // the ones it did not (a crash or an outage between the hand-over's commit and the transfer).
        t.boolean('listing_transferred').notNullable().defaultTo(true);
        t.index(['listing_transferred']);
        // "Was this listing sold?" when someone asks to join its line.
        t.index(['listing_id', 'status']);
      });
    },
    async down(db) {
      await db.schema.alterTable('orders', (t) => {
        t.dropIndex(['listing_id', 'status']);
        t.dropIndex(['listing_transferred']);
        t.dropColumn('listing_transferred');
        t.dropColumn('handed_over_from');
      });
      await db.schema.dropTable('listing_locks');
      await db.schema.dropTable('waitlist_entries');
    },
  },
  {
    // A complete order whose payment was refunded: its own status, so it no longer reads as a sale to be
    // honoured. The status column is an ENUM: the new value goes last, which MySQL and MariaDB apply to
    // the table's definition alone (existing rows keep their stored index), without copying the table.
    name: '004_order_refunded',
    async up(db) {
      await db.schema.alterTable('orders', (t) => {
        t.enum('status', ['pending', 'complete', 'cancelled', 'expired', 'refunded']).notNullable().alter();
      });
    },
    async down(db) {
      // The old ENUM has no place for them: a refunded order goes back to what it was before, complete.
      await db('orders').where({ status: 'refunded' }).update({ status: 'complete' });
      await db.schema.alterTable('orders', (t) => {
        t.enum('status', ['pending', 'complete', 'cancelled', 'expired']).notNullable().alter();
      });
    },
  },
  {
    // Signed links to a complete order's file: the token goes to the buyer once, only its SHA-256 is kept.
    name: '005_download_links',
    async up(db) {
      await db.schema.createTable('download_links', (t) => {
        t.specificType('token_hash', 'BINARY(32)').primary();
        t.uuid('order_id').notNullable();
        t.datetime('expires_at', { precision: 3 }).notNullable();
        t.integer('uses_left').unsigned().notNullable();
        // Set when the order is refunded: the goods are revoked with the money.
        t.datetime('revoked_at', { precision: 3 }).nullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.index(['order_id', 'expires_at']);
      });
    },
    async down(db) {
      await db.schema.dropTable('download_links');
    },
  },
];
