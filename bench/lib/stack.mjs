// The bench's own stack, isolated from a running `npm start` and from the tests: its own ports,
// BUS_PREFIX=bench (queues, exchanges, Redis keys) and DB_NAME_PREFIX=bench_ (databases). Three
// gateways share the services: one with the read cache, a second replica of it (the two-replica
// scenario), and one with CACHE_TTL_SECONDS=0 so that every read goes gateway → RabbitMQ →
// listings-service → MySQL. The baselines run as processes too.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeys, keysFor } from '../../scripts/keys.mjs';
import { waitReady } from './processes.mjs';

export const PORTS = {
  gatewayCached: 18080,
  gatewayUncached: 18081,
  gatewayReplica: 18082,
  gatewayCachedOps: 19100,
  gatewayUncachedOps: 19104,
  gatewayReplicaOps: 19105,
  users: 13001,
  listingsOps: 19101,
  ordersOps: 19102,
  paymentsOps: 19103,
  redisRead: 18091,
  rpcRead: 18092,
  httpSignin: 18093,
};

const BUS_NAMES = { 'users-service': 'users', 'listings-service': 'listings', 'orders-service': 'orders', 'payments-service': 'payments', 'api-gateway': 'api-gateway' };

export const BUS_PREFIX = 'bench';
export const DB_NAME_PREFIX = 'bench_';
export const BCRYPT_ROUNDS = 10;
export const ORDER_TTL_SECONDS = 900;

const url = (port, path = '') => `http://127.0.0.1:${port}${path}`;
// A one-off set of keys for this run, as `npm run keys` makes them.
const keys = generateKeys();

/** The environment every service gets; `NODE_ENV=production` as deployed, with one-off keys. */
function serviceEnv(service, overrides) {
  const env = { ...process.env };
  // A development admin account would only add a bcrypt hash at start; the bench does not need one.
  delete env.ADMIN_EMAIL;
  delete env.ADMIN_PASSWORD;
  return {
    ...env,
    NODE_ENV: 'production',
    ...keysFor(service, keys),
    PAYMENTS_PROVIDER: 'sandbox',
    BUS_PREFIX,
    DB_NAME_PREFIX,
    LOG_LEVEL: 'warn',
    BCRYPT_ROUNDS: String(BCRYPT_ROUNDS),
    ORDER_TTL_SECONDS: String(ORDER_TTL_SECONDS),
    // Longer than any bench run, so the seeded buyers' tokens never expire mid-scenario.
    ACCESS_TOKEN_TTL: '2h',
    RATE_LIMIT_MAX: '1000000000',
    // Lifted like the rate limit: the order scenarios give each buyer many holds at once.
    MAX_PENDING_ORDERS_PER_BUYER: '1000',
    USERS_PORT: String(PORTS.users),
    USERS_SERVICE_URL: url(PORTS.users),
    ...overrides,
  };
}

export const ordersServiceBuilt = (root) => existsSync(join(root, 'orders-service/dist/main.js')) && existsSync(join(root, 'orders-service/dist/app.js'));

/**
 * Starts users-, listings- and (when built and able to start) orders-service, then the three gateways.
 * Resolves with the processes and, when orders-service is not there, why.
 */
export async function startStack(group, root, { profileDir, gatewayNodeArgs = [] } = {}) {
  const start = (name, service, env, nodeArgs = []) => group.start(name, join(root, service, 'dist/main.js'), { cwd: root, env: serviceEnv(BUS_NAMES[service], env), nodeArgs });
  const users = start('users-service', 'users-service', {});
  const listings = start('listings-service', 'listings-service', { METRICS_PORT: String(PORTS.listingsOps) });
  await Promise.all([waitReady(users, url(PORTS.users, '/readyz')), waitReady(listings, url(PORTS.listingsOps, '/readyz'))]);

  const orders = await startOrders(group, root, start);

  // The gateway runs as it ships (scripts/start.mjs, docker-compose.yml, k8s/): no heap cap.
  const profile = (name) => [...gatewayNodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [])];
  const gateway = (name, port, opsPort, cacheTtlSeconds) => ({
    proc: start(name, 'api-gateway', { PORT: String(port), METRICS_PORT: String(opsPort), CACHE_TTL_SECONDS: String(cacheTtlSeconds) }, profile(name)),
    url: url(port),
    opsUrl: url(opsPort),
  });
  const gateways = {
    cached: gateway('gateway-cached', PORTS.gatewayCached, PORTS.gatewayCachedOps, 60),
    uncached: gateway('gateway-uncached', PORTS.gatewayUncached, PORTS.gatewayUncachedOps, 0),
    // A second replica of the cached gateway (same Redis, same services): the two-replica scenario.
    replica: gateway('gateway-replica', PORTS.gatewayReplica, PORTS.gatewayReplicaOps, 60),
  };
  await allReady(gateways);

  return {
    users,
    listings,
    orders: orders.proc,
    opsUrls: { orders: url(PORTS.ordersOps), listings: url(PORTS.listingsOps) },
    ordersSkipReason: orders.skipReason,
    gateways,
  };
}

/** Resolves once every server (`{ proc, url }`) answers on /readyz; rejects when one exits first. */
const allReady = (servers) => Promise.all(Object.values(servers).map((server) => waitReady(server.proc, `${server.url}/readyz`)));

/** orders-service is being written: bench it only when it is built and actually starts. */
async function startOrders(group, root, start) {
  if (!ordersServiceBuilt(root)) return { skipReason: 'orders-service is not built (orders-service/dist/main.js or dist/app.js is missing after the build)' };
  const proc = start('orders-service', 'orders-service', { METRICS_PORT: String(PORTS.ordersOps) });
  try {
    await waitReady(proc, url(PORTS.ordersOps, '/readyz'), 30_000);
    return { proc };
  } catch (err) {
    await group.stop([proc]);
    return { skipReason: `orders-service did not start: ${err.message.split('\n').slice(0, 4).join(' | ')}` };
  }
}

/** The three baseline servers (and the RPC responder behind rpc-read). */
export async function startBaselines(group, root) {
  const start = (name, file, env) => group.start(name, join(root, 'bench/baselines', file), { cwd: root, env: { ...process.env, ...env } });
  const server = (name, file, port, env = {}) => ({ proc: start(name, file, { PORT: String(port), ...env }), url: url(port) });
  const responder = start('baseline-rpc-responder', 'rpc-responder.mjs', {});
  const servers = {
    redisRead: server('baseline-redis-read', 'redis-read.mjs', PORTS.redisRead),
    // rpc-read's readiness is a ping through RabbitMQ to the responder, so it covers both.
    rpcRead: server('baseline-rpc-read', 'rpc-read.mjs', PORTS.rpcRead),
    httpSignin: server('baseline-http-signin', 'http-signin.mjs', PORTS.httpSignin, { SIGNIN_DB: `${DB_NAME_PREFIX}users` }),
  };
  await allReady(servers);
  return { responder, ...servers };
}
