import type { KeyObject } from 'node:crypto';
import { createTokenVerifier, type ServiceName } from '../auth';
import type { Migration } from '../db';
import { EventSubscriber } from '../events';
import type { Readiness } from '../health';
import type { Logger } from '../logger';
import { rpcMethods } from '../contracts/rpc';
import { RpcClient, RpcServer } from '../rpc';
import { revocationMigrations, Revocations } from './revocations';
import { type ServiceConfig, type ServiceCore, startService } from './start-service';

export interface RpcServiceConfig extends ServiceConfig {
  RPC_TIMEOUT_MS: number;
  METRICS_PORT: number;
  JWT_PUBLIC_KEYS: readonly KeyObject[];
}

/** What a service's entry points are wired to. */
export interface ServiceParts extends Omit<ServiceCore, 'readiness' | 'dependencies'> {
  rpc: RpcServer;
  rpcClient: RpcClient;
  events: EventSubscriber;
  /** Revoked access tokens, as users-service announced them. */
  revocations: Revocations;
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
 * A service whose doors are the broker alone: `startService` plus the RPC server and client, the event
 * consumers and the token revocations they check. `wire` registers the service's own entry points
 * before anything starts consuming; its stop hooks run after the RPC server and consumers stopped.
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
  const prefix = config.BUS_PREFIX;
  let wired: ServiceParts | undefined;
  const started = await startService({
    name: opts.name,
    database: opts.database,
    config,
    migrations: [...opts.migrations, ...revocationMigrations],
    ...(opts.logger ? { logger: opts.logger } : {}),
    // Its only door is the broker: without the connection no request or event reaches it, so readiness
    // includes it (a local flag, nothing is sent). The database is not in it: shared by every replica, its
    // outage would take them all out at once and gain nothing (requests then fail with a quick 503 of their
    // own), and a slow database would flap every replica. /health/dependencies reports both.
    canServe: (broker) => (broker.connected ? undefined : 'broker_disconnected'),
    opsPort: config.METRICS_PORT,
    async wire(core) {
      const { logger, db, broker, identity } = core;
      const revocations = new Revocations(db);
      const parts: ServiceParts = {
        logger,
        db,
        broker,
        identity,
        revocations,
        outbox: core.outbox,
        rpc: new RpcServer(broker, { prefix, logger, identity, tokens: createTokenVerifier(config.JWT_PUBLIC_KEYS), revocations: revocations.check, contracts: rpcMethods }),
        rpcClient: new RpcClient(broker, { prefix, timeoutMs: config.RPC_TIMEOUT_MS, logger, identity, contracts: rpcMethods }),
        events: new EventSubscriber(broker, { prefix, logger, identity }),
        onStop: core.onStop,
      };
      revocations.subscribe(parts.events, opts.database);
      // The doors close first, so nothing new arrives while the service's own hooks drain.
      core.onStop(() => parts.events.stop());
      core.onStop(() => parts.rpc.stop());
      await parts.rpcClient.start();
      await opts.wire(parts);
      core.onStop(() => parts.rpcClient.close());
      await parts.rpc.start();
      await parts.events.start();
      wired = parts;
    },
  });
  if (!wired) throw new Error(`${opts.name}: wiring did not run`);
  const opsPort = started.opsPort ?? config.METRICS_PORT;
  started.core.logger.info(`${opts.name} started`, { opsPort });
  return { parts: wired, opsPort, readiness: started.core.readiness, stop: () => started.stop() };
}
