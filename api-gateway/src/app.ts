import type { Server } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import {
  Broker,
  contracts,
  createLogger,
  createRedis,
  createTokenVerifier,
  checkDependency,
  type DependencyCheck,
  brokerCheck,
  dependencyReporter,
  DependencyDown,
  EventSubscriber,
  healthRoutes,
  httpObservability,
  listenApp,
  type Logger,
  notFoundHandler,
  paymentRpcTimeoutMs,
  publicJwkOf,
  serviceIdentityOf,
  startOpsServer,
  problemHandler,
  Readiness,
  readJsonBody,
  type Redis,
  requestContext,
  RpcClient,
} from '@market/common';
import type { GatewayConfig } from './config';
import { authenticate, DELETED_VERSION, refuseBadTokens, revocationKey } from './http/authenticate';
import { planCachedRead } from './http/edge-round';
import { createRateLimiter } from './http/rate-limit';
import { FINAL_VERSION, ReadCache } from './http/read-cache';
import { stripeWebhookRouter } from './http/stripe-webhook';
import { UsersClient } from './http/users-client';
import { docsRouter } from './http/docs';
import { LiveEvents } from './http/live-events';
import { storefrontRouter } from './http/storefront';
import { buildOpenApiDocument } from './openapi';
import { allRoutes } from './routes';
import { cached, forgetListing } from './routes/deps';
import { mountRoute, rawBodyRouter } from './routes/route';

/** Versions only go up and a deletion is final, whatever order the events arrive in. */
const RAISE_REVOCATION = `local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1`;
const REVOCATION_TTL_SECONDS = 25 * 3600;

export interface Gateway {
  port: number;
  /** The internal port: /metrics, /health/dependencies, and /healthz, /readyz as on the public one. */
  opsPort: number;
  app: express.Express;
  readiness: Readiness;
  redis: Redis;
  rpc: RpcClient;
  /** Its RabbitMQ connection: whether it is up, and which setups wait for a retry. */
  broker: Broker;
  stop(): Promise<void>;
}

export async function startGateway(config: Readonly<GatewayConfig>, logger: Logger = createLogger('api-gateway', config.LOG_LEVEL)): Promise<Gateway> {
  const redis = createRedis(config.REDIS_URL, logger);
  const identity = serviceIdentityOf('api-gateway', config);
  const broker = new Broker({ url: config.RABBITMQ_URL, logger, name: 'api-gateway' });
  const rpc = new RpcClient(broker, { prefix: config.BUS_PREFIX, timeoutMs: config.RPC_TIMEOUT_MS, logger, identity, contracts: contracts.rpcMethods });
  const cache = new ReadCache(redis, config.BUS_PREFIX, config.CACHE_TTL_SECONDS);
  const users = new UsersClient(config.USERS_SERVICE_URL, config.USERS_TIMEOUT_MS);
  const events = new EventSubscriber(broker, { prefix: config.BUS_PREFIX, logger, identity });
  // State changed by other services (a reservation, an expiry, a seller's deletion) reaches the cache here.
  // One durable queue shared by every replica, like the cache itself: each change is applied once, and
  // changes made while every gateway was cut off from the broker wait in the queue instead of being
  // missed (a private queue per replica lost them, leaving stale entries until CACHE_TTL_SECONDS).
  events.subscribe({
    queue: 'gateway.cache-invalidation',
    patterns: ['listing.*', 'user.deleted'],
    handler: async (event) => {
      // Once per version: a change made through a route was already forgotten by that route (ReadCache.forget).
      if (event.type === 'user.deleted') await cache.forget(cached.user(event.payload.userId), FINAL_VERSION);
      else await forgetListing(cache, event.payload.listing.id, event.type === 'listing.deleted' ? FINAL_VERSION : event.payload.listing.version);
    },
  });
  // Revocations go to Redis once for every replica (a shared queue), where each request's rate-limit
  // round trip reads them. Kept a little longer than any access token lives (ACCESS_TOKEN_TTL ≤ 24 h).
  events.subscribe({
    queue: 'gateway.revocations',
    patterns: ['user.deleted', 'user.sessions_revoked'],
    handler: async (event) => {
      const minVersion = event.type === 'user.deleted' ? DELETED_VERSION : event.payload.tokenVersion;
      await redis.eval(RAISE_REVOCATION, 1, revocationKey(config.BUS_PREFIX, event.payload.userId), minVersion, REVOCATION_TTL_SECONDS);
    },
  });
  // GET /events: each listing change goes to a Redis Stream once (a shared queue), and every replica
  // reads that stream for its own open streams.
  const live = new LiveEvents({
    redis,
    prefix: config.BUS_PREFIX,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    maxPerClient: config.SSE_MAX_PER_CLIENT,
    maxConnections: config.SSE_MAX_CONNECTIONS,
    backlog: config.SSE_BACKLOG,
    logger,
  });
  events.subscribe({ queue: 'gateway.live-events', patterns: ['listing.*'], handler: (event) => live.append(event) });
  live.start();
  await rpc.start();
  await events.start();
  // Started means its consumers were set up once (cache invalidations are not missed from the start);
  // later broker outages degrade it, they do not make it unready.
  await broker.start();

  const redisCheck: DependencyCheck = {
    roundTrip: async () => {
      if (redis.status !== 'ready') throw new DependencyDown('not connected');
      await redis.ping();
    },
  };
  // users-service's own readiness, not its dependencies: its database is its own report's business.
  const usersCheck: DependencyCheck = { roundTrip: () => users.checkReady() };
  const dependencies = { redis: redisCheck, broker: brokerCheck(broker), 'users-service': usersCheck };
  // What makes a gateway useless rather than degraded: starting, shutting down, or cut off from every
  // way it serves. With the broker up it serves listings, orders and payments; with Redis up, cached
  // reads; with users-service up, accounts; JWTs it verifies itself. One of them down is a degraded
  // gateway, and equally so on every replica: taking them all out of the load balancer would turn the
  // gateway's precise 503s for that part into the ingress's 503 for everything. Local state first, so
  // a probe costs nothing while the broker is connected.
  const readiness = new Readiness(async () => {
    if (broker.connected) return undefined;
    if ((await checkDependency(redisCheck, 500)).status === 'up') return undefined;
    if ((await checkDependency(usersCheck, 1000)).status === 'up') return undefined;
    return 'no_backend_reachable';
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.TRUST_PROXY);
  // A JSON API renders nothing: the shortest policy that forbids everything (the /docs page sets its own).
  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));
  app.use(requestContext());
  app.use(httpObservability('api-gateway', logger));

  // The probes' endpoints on the public port (the kubelet and compose check the listener that serves
  // traffic); the dependency report only on the ops port: it would tell anyone what is behind the door.
  app.use(healthRoutes({ readiness }));
  const jwks = { keys: config.JWT_PUBLIC_KEYS.map(publicJwkOf) };
  const paymentTimeoutMs = paymentRpcTimeoutMs(config.RPC_TIMEOUT_MS);
  const routes = allRoutes({ rpc, cache, users, jwks, paymentTimeoutMs, stripePublishableKey: config.STRIPE_PUBLISHABLE_KEY ?? null });
  // Documentation is read by browsers fetching several files at once: not rate limited.
  app.use(docsRouter(buildOpenApiDocument(routes)));
  // The storefront's page and files (GET / and /app.js…): static files, not API calls, so not rate limited.
  app.use(storefrontRouter({ stripe: Boolean(config.STRIPE_PUBLISHABLE_KEY) }));
  // Live updates: bounded by open streams per client (their own cap), not by the request limiter.
  app.use(live.router());
  // Stripe's webhooks: the raw body, and a bound of their own instead of the per-client limit.
  app.use(
    stripeWebhookRouter({
      rpc,
      redis,
      cache,
      prefix: config.BUS_PREFIX,
      limit: config.WEBHOOK_RATE_LIMIT_MAX,
      windowMs: config.WEBHOOK_RATE_LIMIT_WINDOW_MS,
      timeoutMs: paymentTimeoutMs,
      logger,
    }),
  );

  app.use(authenticate(createTokenVerifier(config.JWT_PUBLIC_KEYS), config.BUS_PREFIX));
  app.use(planCachedRead(routes));
  app.use(createRateLimiter({ redis, cache, prefix: config.BUS_PREFIX, limit: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS, logger }));
  app.use(refuseBadTokens);
  // The goods file upload: its raw body, up to 10 MB, instead of the JSON parser and its 100 kB limit.
  app.use(rawBodyRouter(routes));
  app.use(readJsonBody({ limit: '100kb' }));
  const router = express.Router();
  for (const route of routes) mountRoute(router, route);
  app.use(router);
  app.use(notFoundHandler);
  app.use(problemHandler(logger));

  const server: Server = await listenApp(app, config.PORT, config.HOST, 'api-gateway (PORT)');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  // Metrics name sign-ups and payments, the dependency report what is behind the gateway: both are served
  // on an internal port only, never through the door.
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.HOST,
    readiness,
    dependencies: dependencyReporter('api-gateway', dependencies),
  });
  const opsAddress = ops.address();
  const opsPort = typeof opsAddress === 'object' && opsAddress ? opsAddress.port : config.METRICS_PORT;
  readiness.markStarted();
  logger.info('api-gateway listening', { port, opsPort });

  return {
    port,
    opsPort,
    app,
    redis,
    rpc,
    broker,
    readiness,
    async stop() {
      // Unready first (/readyz is 503 on both ports while draining; /healthz stays 200), then stop
      // accepting, let in-flight requests finish (their RPC replies still arrive), then disconnect.
      readiness.markStopping();
      // Open event streams never finish by themselves: ended first, or the server's close would wait for them.
      await live.stop();
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
