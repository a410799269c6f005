import type { Server } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import {
  Broker,
  createLogger,
  createRedis,
  createTokenVerifier,
  EventSubscriber,
  httpObservability,
  listenApp,
  type Logger,
  notFoundHandler,
  publicJwkOf,
  serviceIdentityOf,
  startOpsServer,
  problemHandler,
  readJsonBody,
  type Redis,
  requestContext,
  RpcClient,
} from '@market/common';
import type { GatewayConfig } from './config';
import { authenticate, DELETED_VERSION, refuseBadTokens, revocationKey } from './http/authenticate';
import { planCachedRead } from './http/edge-round';
import { createRateLimiter } from './http/rate-limit';
import { ReadCache } from './http/read-cache';
import { UsersClient } from './http/users-client';
import { docsRouter } from './http/docs';
import { buildOpenApiDocument } from './openapi';
import { allRoutes } from './routes';
import { cached, forgetListing } from './routes/deps';
import { mountRoute } from './routes/route';

/** Versions only go up and a deletion is final, whatever order the events arrive in. */
const RAISE_REVOCATION = `local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1`;
const REVOCATION_TTL_SECONDS = 25 * 3600;

export interface Gateway {
  port: number;
  /** The internal /metrics, /healthz, /readyz port. */
  opsPort: number;
  app: express.Express;
  redis: Redis;
  rpc: RpcClient;
  stop(): Promise<void>;
}

export async function startGateway(config: Readonly<GatewayConfig>, logger: Logger = createLogger('api-gateway', config.LOG_LEVEL)): Promise<Gateway> {
  const redis = createRedis(config.REDIS_URL, logger);
  const identity = serviceIdentityOf('api-gateway', config);
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: 'api-gateway' });
  const rpc = new RpcClient(broker, { prefix: config.BUS_PREFIX, timeoutMs: config.RPC_TIMEOUT_MS, logger, identity });
  const cache = new ReadCache(redis, config.BUS_PREFIX, config.CACHE_TTL_SECONDS);
  const users = new UsersClient(config.USERS_SERVICE_URL, config.USERS_TIMEOUT_MS);
  const events = new EventSubscriber(broker, { prefix: config.BUS_PREFIX, logger, identity });
  // State changed by other services (a reservation, an expiry, a seller's deletion) reaches the cache here.
  events.subscribe({
    patterns: ['listing.*', 'user.deleted'],
    handler: async (event) => {
      if (event.type === 'user.deleted') await cache.invalidate(cached.user(event.payload.userId));
      else if (event.type.startsWith('listing.')) await forgetListing(cache, (event.payload as { listing: { id: string } }).listing.id);
    },
  });
  // Revocations go to Redis once for every replica (a shared queue), where each request's rate-limit
  // round trip reads them. Kept a little longer than any access token lives (ACCESS_TOKEN_TTL ≤ 24 h).
  events.subscribe({
    queue: 'gateway.revocations',
    patterns: ['user.deleted', 'user.sessions_revoked'],
    handler: async (event) => {
      if (event.type !== 'user.deleted' && event.type !== 'user.sessions_revoked') return;
      const minVersion = event.type === 'user.deleted' ? DELETED_VERSION : event.payload.tokenVersion;
      await redis.eval(RAISE_REVOCATION, 1, revocationKey(config.BUS_PREFIX, event.payload.userId), minVersion, REVOCATION_TTL_SECONDS);
    },
  });
  await rpc.start();
  await events.start();
  await broker.start();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.TRUST_PROXY);
  // A JSON API renders nothing: the shortest policy that forbids everything (the /docs page sets its own).
  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));
  app.use(requestContext());
  app.use(httpObservability('api-gateway', logger));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = {
      redis: await redis.ping().then(() => true, () => false),
      rabbitmq: broker.connected,
      usersService: await users.ready(),
    };
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  const jwks = { keys: config.JWT_PUBLIC_KEYS.map(publicJwkOf) };
  const routes = allRoutes({ rpc, cache, users, jwks, paymentTimeoutMs: config.RPC_TIMEOUT_MS * 3 });
  // Documentation is read by browsers fetching several files at once: not rate limited.
  app.use(docsRouter(buildOpenApiDocument(routes)));

  app.use(authenticate(createTokenVerifier(config.JWT_PUBLIC_KEYS), config.BUS_PREFIX));
  app.use(planCachedRead(routes));
  app.use(createRateLimiter({ redis, cache, prefix: config.BUS_PREFIX, limit: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS, logger }));
  app.use(refuseBadTokens);
  app.use(readJsonBody({ limit: '100kb' }));
  const router = express.Router();
  for (const route of routes) mountRoute(router, route);
  app.use(router);
  app.use(notFoundHandler);
  app.use(problemHandler(logger));

  const server: Server = await listenApp(app, config.PORT, config.HOST, 'api-gateway (PORT)');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  // Metrics name sign-ups and payments: they are served on an internal port only, never through the door.
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.HOST,
    readiness: async () => ({ redis: await redis.ping().then(() => true, () => false), rabbitmq: broker.connected }),
  });
  const opsAddress = ops.address();
  const opsPort = typeof opsAddress === 'object' && opsAddress ? opsAddress.port : config.METRICS_PORT;
  logger.info('api-gateway listening', { port, opsPort });

  return {
    port,
    opsPort,
    app,
    redis,
    rpc,
    async stop() {
      // Stop accepting, let in-flight requests finish (their RPC replies still arrive), then disconnect.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await new Promise<void>((resolve) => ops.close(() => resolve()));
      events.stop();
      await rpc.close();
      await broker.close();
      redis.disconnect();
    },
  };
}
