import { eventTablesMigrations, type Migration } from '@market/common';

export const migrations: Migration[] = [
  ...eventTablesMigrations,
  {
    name: '001_payments_and_coupons',
    async up(db) {
      await db.schema.createTable('payments', (t) => {
        t.uuid('id').primary();
        t.uuid('order_id').notNullable();
        t.uuid('buyer_id').notNullable();
        t.integer('amount_cents').unsigned().notNullable();
        t.specificType('currency', 'CHAR(3)').notNullable();
        // `pending` is internal: the order is claimed and a charge may be in progress.
        t.enum('status', ['pending', 'succeeded', 'failed', 'refunded']).notNullable();
        t.enum('provider', ['stripe', 'sandbox']).notNullable();
        t.string('provider_ref', 255).nullable();
        // Kept so that a payment interrupted before its authorization can be resumed with the same card.
        t.string('payment_method', 120).nullable();
        t.string('coupon_code', 40).nullable();
        t.string('idempotency_key', 100).nullable();
        t.string('decline_code', 100).nullable();
        t.string('decline_message', 500).nullable();
        // The order's claim: equal to order_id while pending or succeeded, NULL once failed or refunded.
        // Being UNIQUE, it lets at most one payment per order be in progress or done.
        t.uuid('active_order_id').nullable().unique();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
        // NULL keys do not collide in a UNIQUE index, so payments without a key are unconstrained.
        t.unique(['buyer_id', 'idempotency_key']);
        t.index(['buyer_id', 'created_at']);
        t.index(['order_id']);
        t.index(['status', 'updated_at']);
      });
      await db.schema.createTable('coupons', (t) => {
        t.uuid('id').primary();
        t.string('code', 40).notNullable().unique();
        t.integer('percent_off').unsigned().notNullable();
        t.integer('max_redemptions').unsigned().nullable();
        t.integer('redemptions').unsigned().notNullable().defaultTo(0);
        t.datetime('expires_at', { precision: 3 }).nullable();
        t.uuid('created_by').notNullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.index(['created_at']);
      });
    },
    async down(db) {
      await db.schema.dropTable('coupons');
      await db.schema.dropTable('payments');
    },
  },
];
