import { randomBytes } from 'node:crypto';
import { busyFor } from '../../test/support/wait';
import { createLogger, dropDatabase, type Knex, type Migration, openDatabase } from '../src';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@localhost:3306';
const logger = createLogger('migrations-test', 'error');

/** A slow first migration that would show a second run: it inserts one row. */
const migrations: Migration[] = [
  {
    name: '001_things',
    up: async (db) => {
      await db.schema.createTable('things', (t) => t.increments('id'));
      await busyFor(300);
      await db('things').insert({});
    },
    down: (db) => db.schema.dropTable('things'),
  },
];

const databases: string[] = [];
const fresh = () => {
  const name = `t${randomBytes(4).toString('hex')}_migrations`;
  databases.push(name);
  return name;
};
afterAll(async () => {
  for (const name of databases) await dropDatabase(MYSQL_URL, name);
});

test('three replicas started at once on a fresh database all come up, and the migrations run once', async () => {
  const database = fresh();
  const replicas = await Promise.all([0, 1, 2].map(() => openDatabase({ mysqlUrl: MYSQL_URL, database, migrations, logger })));
  try {
    for (const db of replicas) expect(await db('things').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(await replicas[0]!('knex_migrations').pluck('name')).toEqual(['001_things']);
  } finally {
    await Promise.all(replicas.map((db: Knex) => db.destroy()));
  }
});

test('a migration lock left set by an interrupted run stops the start with the statement that clears it', async () => {
  const database = fresh();
  const first = await openDatabase({ mysqlUrl: MYSQL_URL, database, migrations, logger });
  await first('knex_migrations_lock').update({ is_locked: 1 });
  await first.destroy();
  const more: Migration[] = [...migrations, { name: '002_more', up: (db) => db.schema.createTable('more', (t) => t.increments('id')), down: (db) => db.schema.dropTable('more') }];
  await expect(openDatabase({ mysqlUrl: MYSQL_URL, database, migrations: more, logger })).rejects.toThrow(`UPDATE \`${database}\`.\`knex_migrations_lock\` SET is_locked = 0;`);
});

test('a replica that cannot get its turn within the wait gives up with a message naming the database', async () => {
  const database = fresh();
  // A migration that runs until the test lets it finish: the replica running it holds the lock meanwhile.
  let started!: () => void;
  let finish!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const slow: Migration[] = [
    {
      name: '001_slow',
      up: async () => {
        started();
        await finished;
      },
      down: async () => undefined,
    },
  ];
  const holder = openDatabase({ mysqlUrl: MYSQL_URL, database, migrations: slow, logger });
  await running;
  try {
    await expect(openDatabase({ mysqlUrl: MYSQL_URL, database, migrations: slow, logger, migrationLockWaitSeconds: 1 })).rejects.toThrow(`Another replica has been migrating the database ${database} for 1 s`);
  } finally {
    finish();
  }
  await (await holder).destroy();
});
