import type { Server } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import {
  type Broker,
  createLogger,
  createTokenSigner,
  createTokenVerifier,
  healthRoutes,
  httpObservability,
  type Knex,
  type Logger,
  listenApp,
  metricsText,
  notFoundHandler,
  type Outbox,
  problemHandler,
  type Readiness,
  readJsonBody,
  requestContext,
  type ServiceCore,
  startService,
} from '@market/common';
import type { UsersConfig } from './config';
import { migrations } from './data-access/migrations';
import { UserRepository } from './data-access/user-repository';
import type { UsersDeps } from './domain/deps';
import { ensureAdmin } from './domain/ensure-admin';
import { usersRoutes } from './entry-points/http';

export interface UsersService {
  port: number;
  db: Knex;
  readiness: Readiness;
  outbox: Outbox;
  broker: Broker;
  stop(): Promise<void>;
}

/**
 * Users-service's door is HTTP (the gateway calls it), so it stands on `startService` without the RPC
 * layer and serves the ops endpoints on its own port. Its readiness leaves out the database and the
 * broker: the database is shared by every replica, and its outage would take them all out of the Service
 * at once while each replica answers a quick 503 by itself anyway (a slow database would even flap every
 * replica out under load, its probes waiting for pool connections); the broker only carries the outbox's
 * events, which wait in the database. /health/dependencies reports both; this port is internal.
 */
export async function startUsersService(config: Readonly<UsersConfig>, logger: Logger = createLogger('users-service', config.LOG_LEVEL)): Promise<UsersService> {
  let port = config.USERS_PORT;
  const { core, stop } = await startService({
    name: 'users-service',
    database: 'users',
    config,
    migrations,
    logger,
    async serve(service) {
      port = await serveUsersHttp(config, service);
    },
  });
  logger.info('users-service listening', { port });
  return { port, db: core.db, readiness: core.readiness, outbox: core.outbox, broker: core.broker, stop };
}

async function serveUsersHttp(config: Readonly<UsersConfig>, { db, outbox, logger, readiness, dependencies, onStop }: ServiceCore): Promise<number> {
  const deps: UsersDeps = {
    db,
    users: new UserRepository(db),
    outbox,
    tokenSigner: createTokenSigner(config.JWT_PRIVATE_KEY, config.ACCESS_TOKEN_TTL),
    tokenVerifier: createTokenVerifier(config.JWT_PUBLIC_KEYS),
    bcryptRounds: config.BCRYPT_ROUNDS,
    signinFailures: { max: config.SIGNIN_FAILURES_MAX, windowSeconds: config.SIGNIN_FAILURES_WINDOW_SECONDS },
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL,
  };
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const outcome = await ensureAdmin(deps, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
    logger.info('admin account checked', { outcome });
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.use(requestContext());
  app.use(httpObservability('users-service', logger));
  app.use(healthRoutes({ readiness, dependencies }));
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metricsText();
    res.type(contentType).send(body);
  });
  app.use(readJsonBody({ limit: '100kb' }));
  app.use(usersRoutes(deps));
  app.use(notFoundHandler);
  app.use(problemHandler(logger));

  const server: Server = await listenApp(app, config.USERS_PORT, config.HOST, 'users-service (USERS_PORT)');
  // Longer than the gateway's keep-alive so the gateway, not us, closes idle sockets (no reset races).
  server.keepAliveTimeout = 65_000;
  // The door closes first: in-flight requests finish while /readyz already answers 503.
  onStop(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  );
  const address = server.address();
  return typeof address === 'object' && address ? address.port : config.USERS_PORT;
}
