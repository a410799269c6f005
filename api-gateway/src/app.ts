import type { Server } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import {
  Broker,
  createAccessTokens,
  createLogger,
  createRedis,
  EventSubscriber,
  httpObservability,
  jwtSecretOf,
  type Logger,
  metricsText,
  notFoundHandler,
  problemHandler,
  type Redis,
  requestContext,
  RpcClient,
} from '@market/common';
import type { GatewayConfig } from './config';
import { authenticate, refuseBadTokens } from './http/authenticate';
import { createRateLimiter } from './http/rate-limit';
import { ReadCache } from './http/read-cache';
import { UsersClient } from './http/users-client';
import { docsRouter } from './http/docs';
import { buildOpenApiDocument } from './openapi';
import { allRoutes } from './routes';
import { cached, forgetListing } from './routes/deps';
import { mountRoute } from './routes/route';

export interface Gateway {
  port: number;
  app: express.Express;
  redis: Redis;
  rpc: RpcClient;
  stop(): Promise<void>;
}

export async function startGateway(config: Readonly<GatewayConfig>, logger: Logger = createLogger('api-gateway', config.LOG_LEVEL)): Promise<Gateway> {
  const redis = createRedis(config.REDIS_URL, logger);
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: 'api-gateway' });
  const rpc = new RpcClient(broker, { prefix: config.BUS_PREFIX, timeoutMs: config.RPC_TIMEOUT_MS, logger });
  const cache = new ReadCache(redis, config.BUS_PREFIX, config.CACHE_TTL_SECONDS);
  const users = new UsersClient(config.USERS_SERVICE_URL, config.USERS_TIMEOUT_MS);
  const events = new EventSubscriber(broker, { prefix: config.BUS_PREFIX, logger });
  // State changed by other services (a reservation, an expiry, a seller's deletion) reaches the cache here.
  events.subscribe({
    patterns: ['listing.*', 'user.deleted'],
    handler: async (event) => {
      if (event.type === 'user.deleted') await cache.invalidate(cached.user((event.payload as { userId: string }).userId));
      else await forgetListing(cache, (event.payload as { listing: { id: string } }).listing.id);
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
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metricsText();
    res.type(contentType).send(body);
  });

  const routes = allRoutes({ rpc, cache, users, paymentTimeoutMs: config.RPC_TIMEOUT_MS * 3 });
  // Documentation is read by browsers fetching several files at once: not rate limited.
  app.use(docsRouter(buildOpenApiDocument(routes)));

  app.use(authenticate(createAccessTokens(jwtSecretOf(config), 60)));
  app.use(createRateLimiter({ redis, prefix: config.BUS_PREFIX, limit: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS, logger }));
  app.use(refuseBadTokens);
  app.use(express.json({ limit: '100kb' }));
  const router = express.Router();
  for (const route of routes) mountRoute(router, route);
  app.use(router);
  app.use(notFoundHandler);
  app.use(problemHandler(logger));

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.PORT, () => resolve(s)).once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info('api-gateway listening', { port });

  return {
    port,
    app,
    redis,
    rpc,
    async stop() {
      // Stop accepting, let in-flight requests finish (their RPC replies still arrive), then disconnect.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      events.stop();
      await rpc.close();
      await broker.close();
      redis.disconnect();
    },
  };
}
