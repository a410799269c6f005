import type { KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { ServiceIdentity, ServiceName } from '../auth';
import { serviceIdentityOf } from '../config';
import { openDatabase, type Knex, type Migration } from '../db';
import { Outbox } from '../events';
import { brokerCheck, type DependencyReport, dependencyReporter, Readiness } from '../health';
import { createLogger, type Logger } from '../logger';
import { startOpsServer } from '../metrics';
import { Broker } from '../messaging';

export interface ServiceConfig {
  LOG_LEVEL: string;
  RABBITMQ_URL: string;
  BUS_PREFIX: string;
  MYSQL_URL: string;
  DB_NAME_PREFIX: string;
  HOST: string;
  SERVICE_PRIVATE_KEY: KeyObject;
  SERVICE_PUBLIC_KEYS: ReadonlyMap<ServiceName, readonly KeyObject[]>;
}

/** What every service stands on, whatever its doors (RPC and events, or HTTP). */
export interface ServiceCore {
  logger: Logger;
  db: Knex;
  broker: Broker;
  outbox: Outbox;
  /** This service's key: what it sends on the broker is signed with it. */
  identity: ServiceIdentity;
  /** Ready once started, until shutdown begins (and while `canServe` says so). */
  readiness: Readiness;
  /** The /health/dependencies report (database and broker), for a service serving it on its own port. */
  dependencies: () => Promise<DependencyReport>;
  /**
   * Runs at shutdown, in the order registered, after readiness turned 503 and before the outbox, the
   * broker and the database close: register the doors first (they stop taking work), then what drains.
   */
  onStop(fn: () => Promise<void> | void): void;
}

export interface StartedService {
  core: ServiceCore;
  /** The ops port actually bound, when the service has one. */
  opsPort: number | undefined;
  stop(): Promise<void>;
}

/**
 * The start-up and shutdown every service shares: database (created and migrated), broker connection,
 * outbox relay, readiness, the dependency report and, with `opsPort`, the internal ops server
 * (/healthz, /readyz, /health/dependencies, /metrics). `wire` registers the entry points before the
 * broker connects (so consumers exist when it does); `serve` opens doors that need the broker up first.
 */
export async function startService(opts: {
  name: string;
  /** The service's name on the bus, which is also its database's: `listings` → `market_listings`. */
  database: ServiceName;
  config: ServiceConfig;
  migrations: Migration[];
  logger?: Logger;
  /** Why the process cannot serve anything beyond starting and stopping; see `Readiness`. */
  canServe?: (broker: Broker) => string | undefined;
  /** Serves the ops endpoints on this port; leave it out when the service serves them on its own HTTP port. */
  opsPort?: number;
  wire?(core: ServiceCore): void | Promise<void>;
  serve?(core: ServiceCore): void | Promise<void>;
}): Promise<StartedService> {
  const { config, canServe } = opts;
  const logger = opts.logger ?? createLogger(opts.name, config.LOG_LEVEL);
  const identity = serviceIdentityOf(opts.database, config);
  const db = await openDatabase({ mysqlUrl: config.MYSQL_URL, database: `${config.DB_NAME_PREFIX}${opts.database}`, migrations: opts.migrations, logger });
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: opts.name });
  const stopHooks: (() => Promise<void> | void)[] = [];
  const core: ServiceCore = {
    logger,
    db,
    broker,
    identity,
    outbox: new Outbox(db, broker, { prefix: config.BUS_PREFIX, logger, identity }),
    readiness: new Readiness(canServe && (() => canServe(broker))),
    dependencies: dependencyReporter(opts.name, {
      database: { roundTrip: () => db.raw('SELECT 1') },
      broker: brokerCheck(broker),
    }),
    onStop: (fn) => stopHooks.push(fn),
  };
  await core.outbox.start();
  await opts.wire?.(core);
  await broker.start();
  await opts.serve?.(core);

  const ops: Server | undefined =
    opts.opsPort === undefined ? undefined : await startOpsServer({ port: opts.opsPort, host: config.HOST, readiness: core.readiness, dependencies: core.dependencies });
  const address = ops?.address();
  core.readiness.markStarted();

  return {
    core,
    opsPort: typeof address === 'object' && address ? address.port : opts.opsPort,
    async stop() {
      // Unready first: /readyz answers 503 while what was taken drains (an ops port closes last).
      core.readiness.markStopping();
      for (const hook of stopHooks) await hook();
      await core.outbox.stop();
      await broker.close();
      await db.destroy();
      if (ops) await new Promise<void>((resolve) => ops.close(() => resolve()));
    },
  };
}
