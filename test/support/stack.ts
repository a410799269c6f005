import { randomBytes } from 'node:crypto';
import { Broker, contracts, dropDatabase, generateStackKeys, type Logger, createLogger, loadConfig, keySettings, RpcClient, type RunningService, SERVICE_NAMES, serviceIdentityOf, type ServiceIdentity, type ServiceName as BusName, connectRaw } from '@market/common';
import { z } from 'zod';
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
  /** The settings every process shares (keys included, private keys excluded). */
  env: Record<string, string>;
  /** Each process's own private key, and users-service's token signing key: what an attacker must not have. */
  keys: ReturnType<typeof generateStackKeys>;
  gateway: Gateway;
  users: UsersService;
  services: Partial<Record<ServiceName, RunningService>>;
  logger: Logger;
  /** Stops one RPC service (as a crash or deploy would) and, with `restart`, starts it again. */
  stopService(name: ServiceName): Promise<void>;
  /** The settings a process of that service starts with (its own private key included). */
  envFor(name: BusName): Record<string, string>;
  /** The identity of a service, made from its key: what only that service can sign with. */
  identityOf(name: BusName): ServiceIdentity;
  /** An RPC client that signs as `name`, for tests that call a method as another service would. */
  rpcAs(name: BusName): Promise<RpcClient>;
  startService(name: ServiceName): Promise<RunningService>;
  stop(): Promise<void>;
}

const SERVICE_STARTERS: Record<ServiceName, (env: Record<string, string>, logger: Logger) => Promise<RunningService>> = {
  listings: async (env, logger) => startListingsService(loadListingsConfig(env), logger),
  orders: async (env, logger) => startOrdersService(loadOrdersConfig(env), logger),
  payments: async (env, logger) => startPaymentsService(loadPaymentsConfig(env), logger),
};

/** A process's environment: the shared settings plus its own private key. */
const envOf = (stack: { env: Record<string, string>; keys: ReturnType<typeof generateStackKeys> }, service: string): Record<string, string> => ({
  ...stack.env,
  SERVICE_PRIVATE_KEY: stack.keys.servicePrivateKeys[service] ?? '',
});

/**
 * The whole stack in this process, on the real MySQL, Redis and RabbitMQ, isolated from any other
 * stack on the same servers by a random bus prefix (exchanges, queues, Redis keys) and database prefix.
 */
export async function startStack(opts: { env?: Record<string, string>; services?: ServiceName[] } = {}): Promise<Stack> {
  const id = `t${randomBytes(4).toString('hex')}`;
  const keys = generateStackKeys(SERVICE_NAMES);
  const env: Record<string, string> = {
    ...keys.shared,
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
  const parts = { env, keys };
  const users = await startUsersService(loadUsersConfig({ ...envOf(parts, 'users'), JWT_PRIVATE_KEY: keys.jwtPrivateKey }), logger);
  const services: Stack['services'] = {};
  const wanted = opts.services ?? ['listings', 'orders', 'payments'];
  for (const name of wanted) services[name] = await SERVICE_STARTERS[name](envOf(parts, name), logger);
  const gateway = await startGateway(loadGatewayConfig({ ...envOf(parts, 'api-gateway'), USERS_SERVICE_URL: `http://127.0.0.1:${users.port}` }), logger);

  const clients = new Map<BusName, { broker: Broker; rpc: RpcClient }>();
  const identityOf = (name: BusName): ServiceIdentity => serviceIdentityOf(name, loadConfig(z.object(keySettings), envOf(parts, name)));
  const stack: Stack = {
    url: `http://127.0.0.1:${gateway.port}`,
    env,
    keys,
    identityOf,
    envFor: (name) => (name === 'users' ? { ...envOf(parts, name), JWT_PRIVATE_KEY: keys.jwtPrivateKey } : envOf(parts, name)),
    async rpcAs(name) {
      const known = clients.get(name);
      if (known) return known.rpc;
      const broker = new Broker({ url: env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672', logger, name: `test-as-${name}` });
      const rpc = new RpcClient(broker, { prefix: id, timeoutMs: Number(env.RPC_TIMEOUT_MS), logger, identity: identityOf(name), contracts: contracts.rpcMethods });
      await rpc.start();
      await broker.start();
      clients.set(name, { broker, rpc });
      return rpc;
    },
    gateway,
    users,
    services,
    logger,
    async stopService(name) {
      await services[name]?.stop();
      delete services[name];
    },
    async startService(name) {
      const started = await SERVICE_STARTERS[name](envOf(parts, name), logger);
      services[name] = started;
      return started;
    },
    async stop() {
      for (const { broker, rpc } of clients.values()) {
        await rpc.close();
        await broker.close();
      }
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
  const connection = await connectRaw((env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672').split(',')[0] as string);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const queues = [
      'rpc.users', 'rpc.listings', 'rpc.orders', 'rpc.payments', 'dead-letter',
      'listings.user-deleted', 'orders.expired', 'orders.payment-refunded',
      'listings.revocations', 'orders.revocations', 'payments.revocations', 'gateway.revocations', 'gateway.cache-invalidation', 'gateway.live-events',
    ];
    // Quorum queues, and the classic queues of earlier releases under the same names without the suffix.
    for (const q of queues) for (const name of [`${prefix}.${q}.quorum`, `${prefix}.${q}`]) await channel.deleteQueue(name).catch(() => undefined);
    // Expiry wait queues carry their hold length in the name: a checkout's and a waiting list's hand-over's.
    const holds = new Set([...(env.ORDER_TTL_SECONDS ?? '900').split(','), ...(env.WAITLIST_HOLD_SECONDS ?? '300').split(',')]);
    for (const seconds of holds) for (const name of [`${prefix}.orders.expiry-wait.${seconds}s.quorum`, `${prefix}.orders.expiry-wait.${seconds}s`]) await channel.deleteQueue(name).catch(() => undefined);
    for (const ex of ['events', 'dead-letter']) await channel.deleteExchange(`${prefix}.${ex}`).catch(() => undefined);
    await channel.close().catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
