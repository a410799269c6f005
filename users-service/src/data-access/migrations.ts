import { eventTablesMigrations, type Migration } from '@market/common';

export const migrations: Migration[] = [
  ...eventTablesMigrations,
  {
    name: '001_users',
    async up(db) {
      await db.schema.createTable('users', (t) => {
        t.uuid('id').primary();
        t.string('email', 254).notNullable().unique();
        t.string('name', 100).notNullable();
        t.string('password_hash', 100).notNullable();
        t.enum('role', ['user', 'admin']).notNullable().defaultTo('user');
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
        t.index(['created_at']);
      });
      await db.schema.createTable('refresh_tokens', (t) => {
        t.uuid('id').primary();
        t.specificType('token_hash', 'CHAR(64)').notNullable().unique();
        t.uuid('user_id').notNullable().index();
        // Every token rotated from one sign-in shares a family; reuse of a rotated token revokes the family.
        t.uuid('family_id').notNullable().index();
        t.datetime('expires_at', { precision: 3 }).notNullable();
        t.datetime('revoked_at', { precision: 3 }).nullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTable('refresh_tokens');
      await db.schema.dropTable('users');
    },
  },
  {
    name: '002_refresh_token_revoke_reason',
    async up(db) {
      // Only a token revoked by rotation signals theft when presented again; a signed-out one is just dead.
      await db.schema.alterTable('refresh_tokens', (t) => {
        t.enum('revoked_reason', ['rotated', 'signed_out', 'password_changed', 'reuse_detected']).nullable();
      });
    },
    async down(db) {
      await db.schema.alterTable('refresh_tokens', (t) => t.dropColumn('revoked_reason'));
    },
  },
  {
    name: '003_token_versions_and_signin_failures',
    async up(db) {
      // An access token carries its user's token_version; bumping it revokes every token issued before.
      await db.schema.alterTable('users', (t) => {
        t.integer('token_version').unsigned().notNullable().defaultTo(0);
      });
      await db.schema.alterTable('refresh_tokens', (t) => {
        t.enum('revoked_reason', ['rotated', 'signed_out', 'password_changed', 'reuse_detected', 'role_changed', 'signed_out_everywhere']).nullable().alter();
      });
      // Failed sign-ins per account (by a hash of the email, so unknown addresses are counted too).
      await db.schema.createTable('signin_failures', (t) => {
        t.bigIncrements('id');
        t.specificType('account_hash', 'CHAR(64)').notNullable();
        t.datetime('failed_at', { precision: 3 }).notNullable();
        t.index(['account_hash', 'failed_at']);
        t.index(['failed_at']);
      });
    },
    async down(db) {
      await db.schema.dropTable('signin_failures');
      await db.schema.alterTable('users', (t) => t.dropColumn('token_version'));
    },
  },
];
