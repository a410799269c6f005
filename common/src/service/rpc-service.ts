import type { KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import { createTokenVerifier, type ServiceIdentity, type ServiceName } from '../auth';
import { serviceIdentityOf } from '../config';
import { openDatabase, type Knex, type Migration } from '../db';
import { EventSubscriber, Outbox } from '../events';
import { brokerCheck, dependencyReporter, Readiness } from '../health';
import { createLogger, type Logger } from '../logger';
import { startOpsServer } from '../metrics';
import { Broker, RpcClient, RpcServer } from '../rpc';
import { revocationMigrations, Revocations } from './revocations';

export interface RpcServiceConfig {
  LOG_LEVEL: string;
  RABBITMQ_URL: string;
  BUS_PREFIX: string;
  RPC_TIMEOUT_MS: number;
  MYSQL_URL: string;
  DB_NAME_PREFIX: string;
  METRICS_PORT: number;
  HOST: string;
  JWT_PUBLIC_KEYS: readonly KeyObject[];
  SERVICE_PRIVATE_KEY: KeyObject;
  SERVICE_PUBLIC_KEYS: ReadonlyMap<ServiceName, readonly KeyObject[]>;
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
  /** This service's key: what it sends on the broker is signed with it. */
  identity: ServiceIdentity;
  /** Revoked access tokens, as users-service announced them. */
  revocations: Revocations;
  /** Runs at shutdown after the entry points stopped, before connections close. */
  onStop(fn: () => Promise<void> | void): void;
}

export interface RunningService {
  parts: ServiceParts;
  /** The internal /healthz, /readyz, /health/dependencies, /metrics port actually bound. */
  opsPort: number;
  /** Ready once started, until shutdown begins, while its broker connection is up. */
  readiness: Readiness;
  stop(): Promise<void>;
}

/**
 * The start-up and shutdown every RPC-only service shares: database (created and migrated), broker
 * connection, outbox relay, RPC server, event consumers and the internal ops port. `wire` registers
 * the service's own entry points before anything starts consuming.
 */
export async function startRpcService(opts: {
  name: string;
  /** The service's name on the bus, which is also its database's: `listings` → `market_listings`. */
  database: ServiceName;
  config: RpcServiceConfig;
  migrations: Migration[];
  logger?: Logger;
  wire(parts: ServiceParts): void | Promise<void>;
}): Promise<RunningService> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(opts.name, config.LOG_LEVEL);
  const identity = serviceIdentityOf(opts.database, config);
  const db = await openDatabase({
    mysqlUrl: config.MYSQL_URL,
    database: `${config.DB_NAME_PREFIX}${opts.database}`,
    migrations: [...opts.migrations, ...revocationMigrations],
    logger,
  });
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: opts.name });
  const stopHooks: (() => Promise<void> | void)[] = [];
  const revocations = new Revocations(db);
  const prefix = config.BUS_PREFIX;
  const parts: ServiceParts = {
    logger,
    db,
    broker,
    identity,
    revocations,
    outbox: new Outbox(db, broker, { prefix, logger, identity }),
    rpc: new RpcServer(broker, { prefix, logger, identity, tokens: createTokenVerifier(config.JWT_PUBLIC_KEYS), revocations: revocations.check }),
    rpcClient: new RpcClient(broker, { prefix, timeoutMs: config.RPC_TIMEOUT_MS, logger, identity }),
    events: new EventSubscriber(broker, { prefix, logger, identity }),
    onStop: (fn) => stopHooks.push(fn),
  };
  revocations.subscribe(parts.events, opts.database);
  await parts.outbox.start();
  await parts.rpcClient.start();
  await opts.wire(parts);
  await parts.rpc.start();
  await parts.events.start();
  await broker.start();

  // Its only door is the broker: without the connection no request or event reaches it, so readiness
  // includes it (a local flag, nothing is sent). The database is not in it: shared by every replica, its
  // outage would take them all out at once and gain nothing (requests then fail with a quick 503 of their
  // own), and a slow database would flap every replica. /health/dependencies reports both.
  const readiness = new Readiness(() => (broker.connected ? undefined : 'broker_disconnected'));
  const ops: Server = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.HOST,
    readiness,
    dependencies: dependencyReporter(opts.name, {
      database: { roundTrip: () => db.raw('SELECT 1') },
      broker: brokerCheck(broker),
    }),
  });
  readiness.markStarted();
  const address = ops.address();
  logger.info(`${opts.name} started`, { opsPort: typeof address === 'object' && address ? address.port : config.METRICS_PORT });

  return {
    parts,
    opsPort: typeof address === 'object' && address ? address.port : config.METRICS_PORT,
    readiness,
    async stop() {
      // Unready first: /readyz answers 503 while what was taken drains (the ops port closes last).
      readiness.markStopping();
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
