import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { dropDatabase, type Logger, createLogger, type RunningService } from '@market/common';
import { startGateway, type Gateway } from '../../api-gateway/src/app';
import { loadGatewayConfig } from '../../api-gateway/src/config';
import { startUsersService, type UsersService } from '../../users-service/src/app';
import { loadUsersConfig } from '../../users-service/src/config';
import { startListingsService } from '../../listings-service/src/app';
import { loadListingsConfig } from '../../listings-service/src/config';
import { startOrdersService } from '../../orders-service/src/app';
import { loadOrdersConfig } from '../../orders-service/src/config';
import { startPaymentsService } from '../../payments-service/src/app';
import { loadPaymentsConfig } from '../../payments-service/src/config';

export type ServiceName = 'listings' | 'orders' | 'payments';

export interface Stack {
  url: string;
  env: Record<string, string>;
  gateway: Gateway;
  users: UsersService;
  services: Partial<Record<ServiceName, RunningService>>;
  logger: Logger;
  /** Stops one RPC service (as a crash or deploy would) and, with `restart`, starts it again. */
  stopService(name: ServiceName): Promise<void>;
  startService(name: ServiceName): Promise<RunningService>;
  stop(): Promise<void>;
}

const SERVICE_STARTERS: Record<ServiceName, (env: Record<string, string>, logger: Logger) => Promise<RunningService>> = {
  listings: async (env, logger) => startListingsService(loadListingsConfig(env), logger),
  orders: async (env, logger) => startOrdersService(loadOrdersConfig(env), logger),
  payments: async (env, logger) => startPaymentsService(loadPaymentsConfig(env), logger),
};

/**
 * The whole stack in this process, on the real MySQL, Redis and RabbitMQ, isolated from any other
 * stack on the same servers by a random bus prefix (exchanges, queues, Redis keys) and database prefix.
 */
export async function startStack(opts: { env?: Record<string, string>; services?: ServiceName[] } = {}): Promise<Stack> {
  const id = `t${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    BUS_PREFIX: id,
    DB_NAME_PREFIX: `${id}_`,
    BCRYPT_ROUNDS: '4',
    RATE_LIMIT_MAX: '100000',
    USERS_PORT: '0',
    PORT: '0',
    METRICS_PORT: '0',
    RPC_TIMEOUT_MS: '3000',
    ...(process.env.RABBITMQ_URL ? { RABBITMQ_URL: process.env.RABBITMQ_URL } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...(process.env.MYSQL_URL ? { MYSQL_URL: process.env.MYSQL_URL } : {}),
    ...opts.env,
  };
  const logger = createLogger('test-stack', env.LOG_LEVEL);
  const users = await startUsersService(loadUsersConfig(env), logger);
  const services: Stack['services'] = {};
  const wanted = opts.services ?? ['listings', 'orders', 'payments'];
  for (const name of wanted) services[name] = await SERVICE_STARTERS[name](env, logger);
  const gateway = await startGateway(loadGatewayConfig({ ...env, USERS_SERVICE_URL: `http://127.0.0.1:${users.port}` }), logger);

  const stack: Stack = {
    url: `http://127.0.0.1:${gateway.port}`,
    env,
    gateway,
    users,
    services,
    logger,
    async stopService(name) {
      await services[name]?.stop();
      delete services[name];
    },
    async startService(name) {
      const started = await SERVICE_STARTERS[name](env, logger);
      services[name] = started;
      return started;
    },
    async stop() {
      await gateway.stop();
      for (const name of Object.keys(services) as ServiceName[]) await services[name]?.stop();
      await users.stop();
      await gateway.redis.quit().catch(() => undefined);
      await removeTopology(env, id);
      const mysqlUrl = env.MYSQL_URL ?? 'mysql://root@localhost:3306';
      for (const db of ['users', 'listings', 'orders', 'payments']) await dropDatabase(mysqlUrl, `${id}_${db}`);
    },
  };
  return stack;
}

/** Deletes this stack's queues and exchanges so test runs leave the broker as they found it. */
async function removeTopology(env: Record<string, string>, prefix: string): Promise<void> {
  const connection = await amqp.connect(env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672');
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const queues = [
      'rpc.users', 'rpc.listings', 'rpc.orders', 'rpc.payments', 'dead-letter',
      'listings.user-deleted', 'orders.expired',
    ];
    for (const q of queues) await channel.deleteQueue(`${prefix}.${q}`).catch(() => undefined);
    // Expiry wait queues carry their TTL in the name; the orders test knows the ones it made.
    for (const ttl of (env.ORDER_TTL_SECONDS ?? '900').split(',')) await channel.deleteQueue(`${prefix}.orders.expiry-wait.${ttl}s`).catch(() => undefined);
    for (const ex of ['events', 'dead-letter']) await channel.deleteExchange(`${prefix}.${ex}`).catch(() => undefined);
    await channel.close().catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
