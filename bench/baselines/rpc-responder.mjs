// Baseline B (service side) — the smallest RabbitMQ RPC server over MySQL: one channel with the
// project's prefetch (32), one mysql2 pool of the project's size (10), and per message one query:
//   get     → SELECT by primary key, mapped to the same public listing JSON listings-service sends
//   reserve → one conditional UPDATE … WHERE id = ? AND status = 'available' (the same single
//             statement that makes the project's reservation race-free; affectedRows says who won)
//   ping    → readiness
// It owns the `bench_baseline` database: creates it (with a listings table shaped exactly like
// listings-service's) at start and drops it at shutdown. bench/run.mjs copies the seeded listings in.
//
// Env: RABBITMQ_URL, MYSQL_URL, BASELINE_QUEUE (default bench-baseline.rpc), BASELINE_DB (default bench_baseline).
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { mysqlOptions, onSignal } from './serve.mjs';

const queue = process.env.BASELINE_QUEUE ?? 'bench-baseline.rpc';
const database = process.env.BASELINE_DB ?? 'bench_baseline';

// listings-service's table (listings-service/src/data-access/migrations.ts), as MariaDB shows it.
const LISTINGS_TABLE = `CREATE TABLE IF NOT EXISTS listings (
  id char(36) NOT NULL PRIMARY KEY,
  seller_id char(36) NOT NULL,
  title varchar(200) NOT NULL,
  description text NOT NULL,
  price_cents int unsigned NOT NULL,
  currency char(3) NOT NULL,
  status enum('available','reserved','sold') NOT NULL,
  reserved_order_id char(36) DEFAULT NULL,
  version int unsigned NOT NULL,
  created_at datetime(3) NOT NULL,
  updated_at datetime(3) NOT NULL,
  KEY listings_status_created_at_index (status, created_at),
  KEY listings_seller_id_status_index (seller_id, status),
  KEY listings_created_at_index (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

async function createDatabase() {
  const admin = await mysql.createConnection(mysqlOptions());
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${database}\``);
  await admin.query(LISTINGS_TABLE);
  await admin.end();
}

async function dropDatabase() {
  const admin = await mysql.createConnection(mysqlOptions());
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
}

const toListing = (row) => ({
  id: row.id,
  sellerId: row.seller_id,
  title: row.title,
  description: row.description,
  priceCents: row.price_cents,
  currency: row.currency,
  status: row.status,
  version: row.version,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const problem = (status, code) => ({ ok: false, error: { status, code } });

function handlersFor(pool) {
  return {
    ping: async () => ({ ok: true, result: { status: 'ready' } }),
    get: async ({ id }) => {
      const [rows] = await pool.query('SELECT * FROM listings WHERE id = ?', [id]);
      return rows[0] ? { ok: true, result: { listing: toListing(rows[0]) } } : problem(404, 'listing_not_found');
    },
    reserve: async ({ id }) => {
      const orderId = randomUUID();
      const [result] = await pool.query(
        "UPDATE listings SET status = 'reserved', reserved_order_id = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = 'available'",
        [orderId, new Date(), id],
      );
      return result.affectedRows === 1 ? { ok: true, result: { order: { id: orderId, listingId: id, status: 'pending' } } } : problem(409, 'listing_reserved');
    },
  };
}

async function answer(channel, handlers, msg) {
  let reply;
  try {
    const handler = handlers[msg.properties.type];
    reply = handler ? await handler(JSON.parse(msg.content.toString('utf8')).payload) : problem(501, 'unknown_method');
  } catch (err) {
    reply = problem(500, err.code ?? 'internal');
  }
  channel.sendToQueue(msg.properties.replyTo, Buffer.from(JSON.stringify(reply)), { correlationId: msg.properties.correlationId, contentType: 'application/json' });
  channel.ack(msg);
}

await createDatabase();
const pool = mysql.createPool(mysqlOptions(database));
const handlers = handlersFor(pool);
const connection = await amqp.connect(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672', { noDelay: true });
const channel = await connection.createChannel();
await channel.prefetch(32);
await channel.assertQueue(queue, { durable: true });
const { consumerTag } = await channel.consume(queue, (msg) => msg && void answer(channel, handlers, msg));
console.log(`rpc-responder baseline serving ${queue}`);

onSignal(async () => {
  await channel.cancel(consumerTag);
  await channel.deleteQueue(queue);
  await connection.close();
  await pool.end();
  await dropDatabase();
});
