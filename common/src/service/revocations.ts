import type { TokenActor } from '../auth';
import { type AppError, problem } from '../errors';
import type { Knex, Migration } from '../db';
import type { EventSubscriber } from '../events';

/**
 * What a service knows about revoked access tokens, learned from users-service's events and kept in
 * its own database (shared by its replicas, kept across restarts): a deleted user, or the lowest
 * token version still valid after a password change, a role change or a sign-out everywhere.
 */
export const revocationMigrations: Migration[] = [
  {
    name: '900_token_revocations',
    async up(db) {
      await db.schema.createTable('token_revocations', (t) => {
        t.uuid('user_id').primary();
        t.integer('min_version').unsigned().notNullable().defaultTo(0);
        t.boolean('deleted').notNullable().defaultTo(false);
        t.datetime('updated_at', { precision: 3 }).notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTable('token_revocations');
    },
  },
];

export const tokenRevoked = (): AppError => problem('token_revoked');

export class Revocations {
  constructor(private readonly db: Knex) {}

  /** Refuses a token issued before its user's latest revocation. */
  readonly check = async (actor: TokenActor): Promise<void> => {
    const row = (await this.db('token_revocations').where({ user_id: actor.id }).first('min_version', 'deleted')) as { min_version: number; deleted: number | boolean } | undefined;
    if (row && (Boolean(row.deleted) || actor.tokenVersion < row.min_version)) throw tokenRevoked();
  };

  /** Whether users-service announced the account deleted; `trx` reads inside the caller's transaction. */
  async isDeleted(userId: string, trx: Knex = this.db): Promise<boolean> {
    return (await trx('token_revocations').where({ user_id: userId, deleted: true }).first('user_id')) !== undefined;
  }

  /** Versions only move up and a deletion is final, whatever order the events arrive in. */
  private async record(userId: string, change: { minVersion: number } | { deleted: true }): Promise<void> {
    const minVersion = 'minVersion' in change ? change.minVersion : 0;
    const deleted = 'deleted' in change;
    const db = this.db;
    await db('token_revocations')
      .insert({ user_id: userId, min_version: minVersion, deleted, updated_at: new Date() })
      .onConflict('user_id')
      .merge({
        min_version: db.raw('GREATEST(min_version, VALUES(min_version))'),
        deleted: db.raw('deleted OR VALUES(deleted)'),
        updated_at: db.raw('VALUES(updated_at)'),
      });
  }

  /** One durable queue per service, so every revocation reaches it even if it was down when it happened. */
  subscribe(events: EventSubscriber, service: string): void {
    events.subscribe({
      queue: `${service}.revocations`,
      patterns: ['user.deleted', 'user.sessions_revoked'],
      // No processed_events row: recording is idempotent, and that table is keyed by event id alone, so a
      // row written here would make the service's other consumer of `user.deleted` skip the event.
      handler: async (event) => {
        if (event.type === 'user.deleted') await this.record(event.payload.userId, { deleted: true });
        else await this.record(event.payload.userId, { minVersion: event.payload.tokenVersion });
      },
    });
  }
}
