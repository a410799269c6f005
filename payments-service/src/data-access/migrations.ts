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
  {
    name: '002_request_fingerprints_and_coupon_attempts',
    async up(db) {
      await db.schema.alterTable('payments', (t) => {
        // SHA-256 (hex) of what was asked under the Idempotency-Key, so a different request under the
        // same key is refused instead of answered with the first one's result. NULL on older rows.
        t.specificType('request_fingerprint', 'CHAR(64)').nullable();
      });
      // One row per coupon payment attempt of a buyer: kept when the coupon was unusable, deleted
      // once it proved usable (or the attempt failed for another reason). Counting a buyer's rows in
      // the window limits coupon probing on every replica alike.
      await db.schema.createTable('coupon_attempts', (t) => {
        t.uuid('id').primary();
        t.uuid('buyer_id').notNullable();
        t.datetime('attempted_at', { precision: 3 }).notNullable();
        t.index(['buyer_id', 'attempted_at']);
        t.index(['attempted_at']);
      });
    },
    async down(db) {
      await db.schema.dropTable('coupon_attempts');
      await db.schema.alterTable('payments', (t) => {
        t.dropColumn('request_fingerprint');
      });
    },
  },
  {
    name: '003_payment_failure_reason',
    async up(db) {
      await db.schema.alterTable('payments', (t) => {
        // Why a payment failed when it was not a decline (capture_refused: a complete order whose
        // authorization the provider would no longer capture). NULL for declines and other failures.
        t.string('failure_reason', 40).nullable();
      });
    },
    async down(db) {
      await db.schema.alterTable('payments', (t) => {
        t.dropColumn('failure_reason');
      });
    },
  },
  {
    name: '004_buyer_actions_refunds_disputes_and_provider_events',
    async up(db) {
      await db.schema.alterTable('payments', (t) => {
        // requires_action: the buyer must finish 3-D Secure in the browser. The payment keeps the
        // order's claim meanwhile, like `pending`, and shows in the API.
        t.enum('status', ['pending', 'requires_action', 'succeeded', 'failed', 'refunded']).notNullable().alter();
        // Where a refund asked for by an admin (or made at the provider) stands: pending, succeeded, failed.
        t.string('refund_status', 20).nullable();
        t.string('dispute_id', 255).nullable();
        t.string('dispute_status', 40).nullable();
        // Webhook events name the PaymentIntent.
        t.index(['provider_ref']);
      });
      // One row per provider event (a webhook) seen: each is handled once, however often it is delivered.
      await db.schema.createTable('provider_events', (t) => {
        t.string('id', 255).primary();
        t.string('type', 100).notNullable();
        // processing while a handler works on it (a crashed handler's row is taken over later), then done.
        t.enum('state', ['processing', 'done']).notNullable();
        t.datetime('received_at', { precision: 3 }).notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
        t.index(['received_at']);
      });
    },
    async down(db) {
      await db.schema.dropTable('provider_events');
      await db('payments').where({ status: 'requires_action' }).update({ status: 'pending' });
      await db.schema.alterTable('payments', (t) => {
        t.dropIndex(['provider_ref']);
        t.dropColumn('dispute_status');
        t.dropColumn('dispute_id');
        t.dropColumn('refund_status');
        t.enum('status', ['pending', 'succeeded', 'failed', 'refunded']).notNullable().alter();
      });
    },
  },
];
