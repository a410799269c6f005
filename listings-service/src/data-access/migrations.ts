import { eventTablesMigrations, type Migration } from '@market/common';

export const migrations: Migration[] = [
  ...eventTablesMigrations,
  {
    name: '001_listings',
    async up(db) {
      await db.schema.createTable('listings', (t) => {
        t.uuid('id').primary();
        t.uuid('seller_id').notNullable();
        t.string('title', 200).notNullable();
        t.text('description').notNullable();
        t.integer('price_cents').unsigned().notNullable();
        t.specificType('currency', 'CHAR(3)').notNullable();
        t.enum('status', ['available', 'reserved', 'sold']).notNullable();
        // Which order holds the reservation: every later transition is conditional on it.
        t.uuid('reserved_order_id').nullable();
        t.integer('version').unsigned().notNullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
        t.index(['status', 'created_at']);
        t.index(['seller_id', 'status']);
        t.index(['created_at']);
      });
      // Sellers whose account is gone: a listing of theirs released from a reservation is withdrawn.
      await db.schema.createTable('deleted_sellers', (t) => {
        t.uuid('seller_id').primary();
        t.datetime('deleted_at', { precision: 3 }).notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTable('deleted_sellers');
      await db.schema.dropTable('listings');
    },
  },
];
