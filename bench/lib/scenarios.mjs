// The scenarios: each names what the project does, the baseline it is held against, how one run of
// either side goes, and its targets. bench/run.mjs runs them alternately (project, baseline, project,
// baseline…) so that both sides see the same machine noise.
import { burst, measure, percentile, rotatePaths } from './load.mjs';
import { trackPeakRss } from './processes.mjs';
import { Redis } from 'ioredis';
import { GatewayClient, insertListings, ListingPool } from './seed.mjs';

const JSON_HEADERS = { 'content-type': 'application/json' };
const bearer = (token) => ({ authorization: `Bearer ${token}` });

/** A timed autocannon run of `request` against one server process (`afterWarmup` optional). */
const timedRun = (ctx, target, request, afterWarmup) => () =>
  measure({ url: target.url, pid: target.proc.pid, connections: ctx.settings.connections, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmupSeconds, request, afterWarmup });

function readScenarios(ctx) {
  const { gateways } = ctx.stack;
  const { redisRead, rpcRead } = ctx.baselines;
  const itemPaths = ctx.data.readIds.map((id) => `/listings/${id}`);
  const pagePath = '/listings?limit=20';
  return [
    {
      id: 'cached-read',
      title: 'GET /listings/{id}, cache hit',
      baselineName: 'A: Express + 1 Redis GET',
      targets: { minRatio: 0.75 },
      project: timedRun(ctx, gateways.cached, { setupRequest: rotatePaths(itemPaths) }),
      baseline: timedRun(ctx, redisRead, { setupRequest: rotatePaths(itemPaths) }),
    },
    {
      id: 'uncached-read',
      title: 'GET /listings/{id}, no cache (RPC + MySQL)',
      baselineName: 'B: Express + amqplib RPC + mysql2 PK read',
      targets: { minRatio: 0.8 },
      project: timedRun(ctx, gateways.uncached, { setupRequest: rotatePaths(itemPaths) }),
      baseline: timedRun(ctx, rpcRead, { setupRequest: rotatePaths(itemPaths) }),
    },
    {
      id: 'listing-page',
      title: 'GET /listings?limit=20, cache hit',
      baselineName: 'A: Express + 1 Redis GET of the page',
      targets: { minRatio: 0.75 },
      project: timedRun(ctx, gateways.cached, { path: pagePath }),
      baseline: timedRun(ctx, redisRead, { path: pagePath }),
    },
  ];
}

function signinScenario(ctx) {
  const bodies = ctx.data.signinUsers.map((u) => JSON.stringify({ email: u.email, password: u.password }));
  const request = () => {
    let i = 0;
    return { method: 'POST', path: '/signin', headers: JSON_HEADERS, setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) };
  };
  return {
    id: 'signin',
    title: `POST /signin (bcrypt cost ${ctx.settings.bcryptRounds})`,
    baselineName: 'C: Express + mysql2 read by email + bcrypt.compare',
    targets: {},
    project: timedRun(ctx, ctx.stack.gateways.cached, request()),
    baseline: timedRun(ctx, ctx.baselines.httpSignin, request()),
  };
}

/**
 * POST /orders, each request on a listing nobody ordered yet, from buyers in turn. The pool of
 * listings is topped up after the warm-up from the warm-up's rate, so the measured run never runs dry.
 */
function distinctOrderRun(ctx, target, pool) {
  const buyers = ctx.data.buyers;
  let i = 0;
  const request = {
    method: 'POST',
    path: '/orders',
    setupRequest: (req) => ({ ...req, headers: { ...JSON_HEADERS, ...bearer(buyers[i++ % buyers.length].token) }, body: JSON.stringify({ listingId: pool.take() }) }),
  };
  const { seconds, warmupSeconds } = ctx.settings;
  const run = timedRun(ctx, target, request, async (warm) => {
    pool.lastRate = warm.reqPerSec;
    await pool.ensure(warm.reqPerSec * seconds * 1.6 + 1000);
    pool.exhausted = false;
  });
  return async () => {
    await pool.ensure(Math.max(3000, pool.lastRate * warmupSeconds * 1.5));
    return { ...(await run()), poolRanDry: pool.exhausted };
  };
}

/**
 * 200 buyers (200 tokens) press "buy" at the same moment on one fresh listing, on `bursts` listings
 * in turn. Exactly one 201 and 199 409s per listing is the correct outcome; anything else is an error.
 */
function burstRun(ctx, target, freshListing) {
  const headersPerRequest = ctx.data.buyers.map((b) => ({ ...JSON_HEADERS, ...bearer(b.token) }));
  return async () => {
    const all = { latencies: [], statuses: [], wallMs: 0, socketErrors: 0, listingsOk: 0 };
    const rss = trackPeakRss(target.proc.pid);
    for (let b = 0; b < ctx.settings.bursts; b++) {
      const listingId = await freshListing(b);
      const one = await burst({ url: target.url, request: { method: 'POST', path: '/orders', body: JSON.stringify({ listingId }) }, headersPerRequest });
      all.latencies.push(...one.latencies);
      all.statuses.push(...one.statuses);
      all.wallMs += one.wallMs;
      all.socketErrors += one.socketErrors;
      if (count(one.statuses, 201) === 1 && count(one.statuses, 409) === headersPerRequest.length - 1) all.listingsOk++;
    }
    const created = count(all.statuses, 201);
    const conflicts = count(all.statuses, 409);
    return {
      reqPerSec: all.statuses.length / (all.wallMs / 1000),
      p50: percentile(all.latencies, 50),
      p99: percentile(all.latencies, 99),
      requests: all.statuses.length,
      created,
      conflicts,
      listings: ctx.settings.bursts,
      listingsOk: all.listingsOk,
      errors: all.statuses.length - created - conflicts + all.socketErrors,
      statusCodes: Object.fromEntries([...new Set(all.statuses)].map((s) => [s, count(all.statuses, s)])),
      peakRssMb: rss.stop(),
    };
  };
}

const count = (values, v) => values.reduce((n, x) => n + (x === v), 0);

function orderScenarios(ctx) {
  const { gateways } = ctx.stack;
  const { rpcRead } = ctx.baselines;
  const { sql, data } = ctx;
  const projectPool = new ListingPool(sql, ctx.databases.listings, data.seller.id);
  const baselinePool = new ListingPool(sql, ctx.databases.baseline, data.seller.id);
  return [
    {
      id: 'order-distinct',
      title: 'POST /orders, a different listing each',
      baselineName: 'B: Express + RPC + conditional UPDATE',
      targets: {},
      project: distinctOrderRun(ctx, gateways.cached, projectPool),
      baseline: distinctOrderRun(ctx, rpcRead, baselinePool),
    },
    {
      id: 'order-burst',
      title: `${data.buyers.length} buyers at once on one listing (×${ctx.settings.bursts})`,
      baselineName: 'B: same burst on the conditional UPDATE',
      note: `req/s here = ${data.buyers.length} ÷ the time from firing a burst to its last answer`,
      targets: {},
      project: burstRun(ctx, gateways.cached, async (b) => (await ctx.client.createListing(data.seller.token, b)).id),
      baseline: burstRun(ctx, rpcRead, async (b) => (await insertListings(sql, ctx.databases.baseline, data.seller.id, 1, b))[0]),
    },
  ];
}

/**
 * Both replicas of the cached gateway at once (half the connections each) against one replica with all
 * of them: how throughput moves with a second replica on the same machine. Before the rounds, counts
 * show that what must be shared is: one user's requests through both replicas land on one rate-limit
 * counter, an entry one replica cached is a hit on the other, and an edit through one is fresh on the other.
 */
function twoReplicaScenario(ctx) {
  const { cached, replica } = ctx.stack.gateways;
  const itemPaths = ctx.data.readIds.map((id) => `/listings/${id}`);
  const half = Math.max(1, Math.floor(ctx.settings.connections / 2));
  const onOne = (target, connections) => () =>
    measure({ url: target.url, pid: target.proc.pid, connections, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmupSeconds, request: { setupRequest: rotatePaths(itemPaths) } });
  return {
    id: 'two-replicas',
    title: 'GET /listings/{id}, cache hit, 2 gateway replicas',
    baselineName: 'the same load on 1 replica of the project',
    note: 'ratio = 2 replicas ÷ 1 replica; p50/p99 are the worse replica’s',
    targets: {},
    preflight: () => sharedStateChecks(ctx, cached, replica),
    project: async () => combine(await Promise.all([onOne(cached, half)(), onOne(replica, ctx.settings.connections - half)()])),
    baseline: onOne(cached, ctx.settings.connections),
  };
}

/** Two replicas' runs as one: their rates add up; latencies and RSS are the worse replica's. */
function combine(runs) {
  return {
    reqPerSec: runs.reduce((n, r) => n + r.reqPerSec, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
}

async function sharedStateChecks(ctx, a, b) {
  const [A, B] = [new GatewayClient(a.url), new GatewayClient(b.url)];
  const checks = [];
  // The limit: a new user's requests, alternating replicas, all counted on the one counter in Redis.
  const user = await A.signUp(`replicas-${Date.now()}@bench.local`, 'Replica check');
  const perReplica = 10;
  for (let i = 0; i < perReplica; i++) {
    await A.request('GET', '/orders', { token: user.token, expect: 200 });
    await B.request('GET', '/orders', { token: user.token, expect: 200 });
  }
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379');
  try {
    const counted = Number(await redis.get(`${ctx.busPrefix}:rl:user:{${user.id}}`));
    checks.push({ target: 'one rate-limit count across replicas', pass: counted === 2 * perReplica, actual: `${counted} of ${2 * perReplica} requests counted` });
  } finally {
    redis.disconnect();
  }
  // The cache: read on A (a miss, then stored), read on B (a hit); an edit through B, then A reads it fresh.
  const listing = await A.createListing(ctx.data.seller.token, 9_999);
  await new Promise((resolve) => setTimeout(resolve, 300)); // listing.created moves the generation: let it land
  const first = await fetch(new URL(`/listings/${listing.id}`, a.url));
  const second = await fetch(new URL(`/listings/${listing.id}`, b.url));
  const hitOnB = first.headers.get('x-cache') === 'MISS' && second.headers.get('x-cache') === 'HIT';
  checks.push({ target: 'an entry cached by one replica is a hit on the other', pass: hitOnB, actual: `A ${first.headers.get('x-cache')}, then B ${second.headers.get('x-cache')}` });
  await B.request('PATCH', `/listings/${listing.id}`, { token: ctx.data.seller.token, body: { priceCents: 4_242 }, expect: 200 });
  const after = await (await fetch(new URL(`/listings/${listing.id}`, a.url))).json();
  checks.push({ target: 'an edit through one replica is fresh on the other', pass: after.listing.priceCents === 4_242, actual: `A reads ${after.listing.priceCents} after B set 4242` });
  return checks;
}

/** Every scenario that can run now; order scenarios only with orders-service up. */
export function buildScenarios(ctx) {
  return [...readScenarios(ctx), twoReplicaScenario(ctx), signinScenario(ctx), ...(ctx.stack.orders ? orderScenarios(ctx) : [])];
}
