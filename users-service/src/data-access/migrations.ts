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
];
