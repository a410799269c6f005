import knex, { type Knex } from 'knex';
import { retry } from '../jobs';
import type { Logger } from '../logger';

export type { Knex };

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

/** Migrations are plain modules listed in code, so they run the same from src (tests) and dist. */
class ListedMigrations implements Knex.MigrationSource<Migration> {
  constructor(private readonly migrations: Migration[]) {}
  getMigrations(): Promise<Migration[]> {
    return Promise.resolve(this.migrations);
  }
  getMigrationName(m: Migration): string {
    return m.name;
  }
  getMigration(m: Migration): Promise<Knex.Migration> {
    return Promise.resolve({ up: m.up, down: m.down });
  }
}

export interface DatabaseOptions {
  mysqlUrl: string;
  database: string;
  migrations: Migration[];
  logger: Logger;
  poolMax?: number;
  /** How long a replica waits for another one's migrations before it gives up (60 s). */
  migrationLockWaitSeconds?: number;
}

function connectionFor(mysqlUrl: string, database?: string): Knex.MySql2ConnectionConfig {
  const url = new URL(mysqlUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    ...(database ? { database } : {}),
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    connectTimeout: 2000,
  };
}

/**
 * Creates the service's database if it is missing, runs its migrations and returns a pool.
 * Connection waits are short so that a database outage becomes a quick 503, not a hang.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Knex> {
  if (!/^[a-z0-9_]+$/.test(opts.database)) throw new Error(`Invalid database name ${opts.database}`);
  // One connection, kept (never idled out) until the migrations are done: it also holds their lock.
  const admin = knex({ client: 'mysql2', connection: connectionFor(opts.mysqlUrl), pool: { min: 0, max: 1, idleTimeoutMillis: 3_600_000 } });
  try {
    await admin.raw(`CREATE DATABASE IF NOT EXISTS \`${opts.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    return await openMigrated(opts, admin);
  } finally {
    await admin.destroy();
  }
}

async function openMigrated(opts: DatabaseOptions, admin: Knex): Promise<Knex> {
  const db = knex({
    client: 'mysql2',
    connection: connectionFor(opts.mysqlUrl, opts.database),
    pool: {
      min: 0,
      max: opts.poolMax ?? 10,
      // A statement waiting on a lock fails in seconds instead of holding a request (or a migration) for hours.
      afterCreate: (conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) =>
        conn.query('SET SESSION lock_wait_timeout = 30, innodb_lock_wait_timeout = 10', (err) => done(err, conn)),
    },
    acquireConnectionTimeout: 2000,
  });
  try {
    const applied = await migrateOnce(opts, db, admin);
    if (applied.length) opts.logger.info('migrations applied', { database: opts.database, migrations: applied });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/**
 * Replicas started together take turns: each migrates under a MySQL named lock (GET_LOCK), which the
 * server releases by itself if its holder dies, so a crash never leaves it behind. Only the holder
 * runs knex's migrator, so knex's own lock row found set is stale (a crash of an older version or a
 * hand-run migration): that is explained with the exact statement that clears it.
 */
async function migrateOnce(opts: DatabaseOptions, db: Knex, lock: Knex): Promise<string[]> {
  const waitSeconds = opts.migrationLockWaitSeconds ?? 60;
  const name = `market_migrations_${opts.database}`.slice(0, 64);
  const [rows] = (await lock.raw('SELECT GET_LOCK(?, ?) AS got', [name, waitSeconds])) as [{ got: number | null }[]];
  if (rows[0]?.got !== 1) {
    throw new Error(`Another replica has been migrating the database ${opts.database} for ${waitSeconds} s (MySQL lock ${name}); this one gives up. Start it again once that replica is up.`);
  }
  try {
    const [, applied] = (await db.migrate.latest({ migrationSource: new ListedMigrations(opts.migrations) })) as [number, string[]];
    return applied;
  } catch (err) {
    if ((err as { name?: unknown })?.name !== 'MigrationLocked') throw err;
    throw new Error(
      `The migration lock of the database ${opts.database} is set, but no replica is migrating (this one holds the lock every replica takes first): ` +
        `a migration was interrupted. Check that its changes are complete, then clear the lock with: UPDATE \`${opts.database}\`.\`knex_migrations_lock\` SET is_locked = 0;`,
    );
  } finally {
    await lock.raw('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
  }
}

export async function dropDatabase(mysqlUrl: string, database: string): Promise<void> {
  const admin = knex({ client: 'mysql2', connection: connectionFor(mysqlUrl), pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await admin.destroy();
  }
}

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'ER_DUP_ENTRY';
}

/** MySQL DATETIME(3) columns come back as Date; the contract speaks ISO 8601 UTC strings. */
export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** How many times a transaction InnoDB chose as a deadlock victim is run again before the error stands. */
const DEADLOCK_ATTEMPTS = 4;

/**
 * db.transaction, run again when InnoDB breaks a deadlock by rolling this one back (ER_LOCK_DEADLOCK):
 * the rollback undid everything, so a fresh attempt is correct, and it is what MySQL's manual asks of
 * every application ("always be prepared to re-issue a transaction if it fails due to deadlock").
 * Lock waits that time out are not retried: they mean something held a lock for seconds.
 * `work` must touch nothing but the transaction (it may run more than once).
 */
export async function transact<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>, config?: Knex.TransactionConfig): Promise<T> {
  return retry(() => db.transaction(work, config), {
    maxAttempts: DEADLOCK_ATTEMPTS,
    isFinal: (err) => (err as { code?: unknown })?.code !== 'ER_LOCK_DEADLOCK',
    // A short random pause (up to 20, 40, 60 ms) so the two victims of one deadlock do not meet again in the same order.
    baseMs: 20,
    maxMs: 60,
    jitter: true,
  });
}
