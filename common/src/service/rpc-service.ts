import type { Server } from 'node:http';
import { openDatabase, type Knex, type Migration } from '../db';
import { EventSubscriber, Outbox } from '../events';
import { createLogger, type Logger } from '../logger';
import { startOpsServer } from '../metrics';
import { Broker, RpcClient, RpcServer } from '../rpc';

export interface RpcServiceConfig {
  LOG_LEVEL: string;
  RABBITMQ_URL: string;
  BUS_PREFIX: string;
  RPC_TIMEOUT_MS: number;
  MYSQL_URL: string;
  DB_NAME_PREFIX: string;
  METRICS_PORT: number;
}

/** What a service's entry points are wired to. */
export interface ServiceParts {
  logger: Logger;
  db: Knex;
  broker: Broker;
  outbox: Outbox;
  rpc: RpcServer;
  rpcClient: RpcClient;
  events: EventSubscriber;
  /** Runs at shutdown after the entry points stopped, before connections close. */
  onStop(fn: () => Promise<void> | void): void;
}

export interface RunningService {
  parts: ServiceParts;
  /** The internal /healthz, /readyz, /metrics port actually bound. */
  opsPort: number;
  stop(): Promise<void>;
}

/**
 * The start-up and shutdown every RPC-only service shares: database (created and migrated), broker
 * connection, outbox relay, RPC server, event consumers and the internal ops port. `wire` registers
 * the service's own entry points before anything starts consuming.
 */
export async function startRpcService(opts: {
  name: string;
  database: string;
  config: RpcServiceConfig;
  migrations: Migration[];
  logger?: Logger;
  wire(parts: ServiceParts): void | Promise<void>;
}): Promise<RunningService> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(opts.name, config.LOG_LEVEL);
  const db = await openDatabase({ mysqlUrl: config.MYSQL_URL, database: `${config.DB_NAME_PREFIX}${opts.database}`, migrations: opts.migrations, logger });
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: opts.name });
  const stopHooks: (() => Promise<void> | void)[] = [];
  const parts: ServiceParts = {
    logger,
    db,
    broker,
    outbox: new Outbox(db, broker, { prefix: config.BUS_PREFIX, logger }),
    rpc: new RpcServer(broker, { prefix: config.BUS_PREFIX, logger }),
    rpcClient: new RpcClient(broker, { prefix: config.BUS_PREFIX, timeoutMs: config.RPC_TIMEOUT_MS, logger }),
    events: new EventSubscriber(broker, { prefix: config.BUS_PREFIX, logger }),
    onStop: (fn) => stopHooks.push(fn),
  };
  await parts.outbox.start();
  await parts.rpcClient.start();
  await opts.wire(parts);
  await parts.rpc.start();
  await parts.events.start();
  await broker.start();

  const ops: Server = await startOpsServer({
    port: config.METRICS_PORT,
    readiness: async () => ({ database: await db.raw('SELECT 1').then(() => true, () => false), broker: broker.connected }),
  });
  const address = ops.address();
  logger.info(`${opts.name} started`, { opsPort: typeof address === 'object' && address ? address.port : config.METRICS_PORT });

  return {
    parts,
    opsPort: typeof address === 'object' && address ? address.port : config.METRICS_PORT,
    async stop() {
      parts.events.stop();
      await parts.rpc.stop();
      for (const hook of stopHooks) await hook();
      await parts.outbox.stop();
      await parts.rpcClient.close();
      await broker.close();
      await db.destroy();
      await new Promise<void>((resolve) => ops.close(() => resolve()));
    },
  };
}
