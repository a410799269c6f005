import type { Server } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import {
  Broker,
  createLogger,
  createTokenSigner,
  createTokenVerifier,
  brokerCheck,
  dependencyReporter,
  healthRoutes,
  httpObservability,
  serviceIdentityOf,
  type Knex,
  type Logger,
  metricsText,
  notFoundHandler,
  openDatabase,
  Outbox,
  problemHandler,
  Readiness,
  readJsonBody,
  requestContext,
  listenApp,
} from '@market/common';
import type { UsersConfig } from './config';
import { migrations } from './data-access/migrations';
import { UserRepository } from './data-access/user-repository';
import { ensureAdmin } from './domain/accounts';
import type { UsersDeps } from './domain/deps';
import { usersRoutes } from './entry-points/http';

export interface UsersService {
  port: number;
  db: Knex;
  readiness: Readiness;
  outbox: Outbox;
  broker: Broker;
  stop(): Promise<void>;
}

export async function startUsersService(config: Readonly<UsersConfig>, logger: Logger = createLogger('users-service', config.LOG_LEVEL)): Promise<UsersService> {
  const db = await openDatabase({ mysqlUrl: config.MYSQL_URL, database: `${config.DB_NAME_PREFIX}users`, migrations, logger });
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: 'users-service' });
  const outbox = new Outbox(db, broker, { prefix: config.BUS_PREFIX, logger, identity: serviceIdentityOf('users', config) });
  await outbox.start();
  await broker.start();

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
  // Ready once started (migrations ran, the outbox relays) until shutdown begins. Neither the database nor
  // the broker is in it. The database is shared by every replica: its outage would take them all out of
  // the Service at once, and the gateway would turn the refused connections into the same 503 each replica
  // answers by itself, quickly, meanwhile (a slow database would even flap every replica out under load,
  // its probes waiting for pool connections). The broker only carries the outbox's events, which wait in
  // the database. /health/dependencies reports both; this port is internal (the gateway and Prometheus).
  const readiness = new Readiness();
  app.use(
    healthRoutes({
      readiness,
      dependencies: dependencyReporter('users-service', {
        database: { roundTrip: () => db.raw('SELECT 1') },
        broker: brokerCheck(broker),
      }),
    }),
  );
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
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.USERS_PORT;
  readiness.markStarted();
  logger.info('users-service listening', { port });

  return {
    port,
    db,
    readiness,
    outbox,
    broker,
    async stop() {
      // Unready first: /readyz is 503 to whoever asks while in-flight requests finish.
      readiness.markStopping();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await outbox.stop();
      await broker.close();
      await db.destroy();
    },
  };
}
