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
 * The durable queues the services declare under the bench prefix (names from common/src/rpc, the
 * services' event subscriptions and orders-service's expiry). Exchanges hold no messages: left.
 */
export function benchQueues(prefix, orderTtlSeconds) {
  return [
    ...['users', 'listings', 'orders', 'payments'].map((s) => `${prefix}.rpc.${s}`),
    `${prefix}.listings.user-deleted`,
    `${prefix}.orders.expired`,
    // New since the quorum queues: it exists only under its quorum name.
    `${prefix}.orders.payment-refunded.quorum`,
    `${prefix}.orders.expiry-wait.${orderTtlSeconds}s`,
    // The waiting list's hand-overs hold for WAITLIST_HOLD_SECONDS (the bench keeps the default).
    `${prefix}.orders.expiry-wait.300s`,
    `${prefix}.dead-letter`,
  ];
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
