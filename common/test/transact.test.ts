import { randomBytes } from 'node:crypto';
import { createLogger, dropDatabase, type Knex, openDatabase, transact } from '../src';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@localhost:3306';
const database = `t${randomBytes(4).toString('hex')}_transact`;
const logger = createLogger('transact-test', 'error');
let db: Knex;

beforeAll(async () => {
  db = await openDatabase({
    mysqlUrl: MYSQL_URL,
    database,
    logger,
    migrations: [
      {
        name: '001_rows',
        up: async (k) => {
          await k.schema.createTable('rows', (t) => {
            t.string('name').primary();
            t.integer('n').notNullable();
          });
          await k('rows').insert([
            { name: 'a', n: 0 },
            { name: 'b', n: 0 },
          ]);
        },
        down: (k) => k.schema.dropTable('rows'),
      },
    ],
  });
});

afterAll(async () => {
  await db.destroy();
  await dropDatabase(MYSQL_URL, database);
});

/** Locks `first`, waits until the other transaction holds its first row too, then wants `second`: a deadlock. */
function crossing(first: string, second: string, bothHoldOne: () => Promise<void>, attempts: { n: number }) {
  return async (trx: Knex.Transaction) => {
    attempts.n += 1;
    await trx('rows').where({ name: first }).increment('n', 1);
    if (attempts.n === 1) await bothHoldOne();
    await trx('rows').where({ name: second }).increment('n', 1);
  };
}

function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    arrived += 1;
    if (arrived === parties) open();
    await opened;
  };
}

test('plain transactions crossing locks: InnoDB rolls one back with ER_LOCK_DEADLOCK', async () => {
  const meet = barrier(2);
  const outcomes = await Promise.allSettled([db.transaction(crossing('a', 'b', meet, { n: 0 })), db.transaction(crossing('b', 'a', meet, { n: 0 }))]);
  expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'ER_LOCK_DEADLOCK' });
});

test('transact runs the deadlock victim again: both complete, each change applied once', async () => {
  const before = await db('rows').orderBy('name');
  const meet = barrier(2);
  const attempts = [{ n: 0 }, { n: 0 }];
  await Promise.all([transact(db, crossing('a', 'b', meet, attempts[0]!)), transact(db, crossing('b', 'a', meet, attempts[1]!))]);
  expect(attempts.map((a) => a.n).sort()).toEqual([1, 2]);
  const after = await db('rows').orderBy('name');
  expect(after.map((r: { n: number }, i: number) => r.n - (before[i] as { n: number }).n)).toEqual([2, 2]);
});

test('transact does not retry other failures', async () => {
  const attempts = { n: 0 };
  await expect(
    transact(db, async () => {
      attempts.n += 1;
      throw new Error('not a deadlock');
    }),
  ).rejects.toThrow('not a deadlock');
  expect(attempts.n).toBe(1);
});
