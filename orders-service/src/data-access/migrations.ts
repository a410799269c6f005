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
];
