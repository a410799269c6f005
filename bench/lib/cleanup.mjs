// Leaves nothing behind, so every run starts from the same empty state: the bench_* databases, the
// bench:* and bench-baseline:* Redis keys (cache entries, generations, rate-limit counters) and the
// bench.* queues (pending order-expiry messages would otherwise wait 15 minutes in RabbitMQ).
// Runs before the bench (a crashed earlier run) and after it.
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { mysqlOptions } from '../baselines/serve.mjs';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://localhost:6379';

export async function dropDatabases(prefix) {
  const sql = await mysql.createConnection(mysqlOptions());
  try {
    const [rows] = await sql.query('SHOW DATABASES LIKE ?', [`${prefix.replaceAll('_', '\\_')}%`]);
    for (const row of rows) await sql.query(`DROP DATABASE IF EXISTS \`${Object.values(row)[0]}\``);
  } finally {
    await sql.end();
  }
}

export async function deleteRedisKeys(patterns) {
  const redis = new Redis(REDIS_URL);
  try {
    for (const match of patterns) {
      for await (const keys of redis.scanStream({ match, count: 1000 })) if (keys.length) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * The durable (quorum) queues the services declare under the bench prefix: the same list the test
 * stack removes (test/support/stack.ts, removeTopology). Exchanges hold no messages: left.
 */
export function benchQueues(prefix, orderTtlSeconds) {
  const queues = [
    ...['users', 'listings', 'orders', 'payments'].map((s) => `rpc.${s}`),
    'dead-letter',
    'listings.user-deleted',
    'orders.expired',
    'orders.payment-refunded',
    ...['listings', 'orders', 'payments', 'gateway'].map((s) => `${s}.revocations`),
    'gateway.cache-invalidation',
    'gateway.live-events',
    `orders.expiry-wait.${orderTtlSeconds}s`,
    // The waiting list's hand-overs hold for WAITLIST_HOLD_SECONDS (the bench keeps the default).
    'orders.expiry-wait.300s',
  ];
  return queues.map((q) => `${prefix}.${q}.quorum`);
}

export async function deleteQueues(names) {
  const connection = await amqp.connect(RABBITMQ_URL);
  try {
    for (const name of names) {
      // A failed delete closes its channel: one channel per queue keeps the others going.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}
