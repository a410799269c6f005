// The scenarios: each names what the project does, the baseline it is held against, how one run of
// either side goes, and its targets. bench/run.mjs runs them alternately (project, baseline, project,
// baseline…) so that both sides see the same machine noise.
import { burst, measure, percentile, rotatePaths } from './load.mjs';
import { trackPeakRss } from './processes.mjs';
import { insertListings, ListingPool } from './seed.mjs';

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
      targets: {},
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

/** Every scenario that can run now; order scenarios only with orders-service up. */
export function buildScenarios(ctx) {
  return [...readScenarios(ctx), signinScenario(ctx), ...(ctx.stack.orders ? orderScenarios(ctx) : [])];
}
