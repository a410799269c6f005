#!/usr/bin/env node
// `npm run bench`: how fast is the project compared with the least its work could cost here?
//
// Builds, starts its own stack (gateways with and without the read cache, a second cached replica, and the services,
// isolated from `npm start` by ports, BUS_PREFIX=bench and DB_NAME_PREFIX=bench_), seeds through
// the gateway, starts the baselines (bench/baselines/*), then runs every scenario ALTERNATING with
// its baseline (project, baseline, project, baseline…) on the same machine, because on a shared,
// noisy 2-core box only a ratio measured in the same run means anything. Each scenario reports the
// medians of its rounds, the ratio, the gateway's peak RSS and PASS/MISS per target (a miss never
// fails the process). Everything is stopped and the bench_* databases are dropped at the end.
//
// Env: BENCH_SECONDS (6) per measured run, BENCH_WARMUP_SECONDS (2) before each, BENCH_ROUNDS (5,
// at least 3: a median and a spread), BENCH_CONNECTIONS (50), BENCH_BURSTS (5 listings per round in the 200-buyer burst),
// BENCH_ONLY (comma-separated scenario ids), BENCH_PROFILE=1 (node --cpu-prof on the gateways,
// prints their top functions), BENCH_GATEWAY_NODE_ARGS (extra node flags for the gateways, to try
// e.g. --max-semi-space-size). With any of the last three the run is partial or an experiment: its
// results go to <date>-experiment.json and latest.* (what the README shows) are left as they were.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { mysqlOptions } from './baselines/serve.mjs';
import { benchQueues, deleteQueues, deleteRedisKeys, dropDatabases } from './lib/cleanup.mjs';
import { ProcessGroup } from './lib/processes.mjs';
import { baselineLegend, summarizeScenario, targetLines, textTable, writeResults } from './lib/report.mjs';
import { formatHops, startHopTimer } from './lib/hops.mjs';
import { buildScenarios } from './lib/scenarios.mjs';
import { formatSoak, soak } from './lib/soak.mjs';
import { copyListings, GatewayClient, mapLimit, signUpMany } from './lib/seed.mjs';
import { BCRYPT_ROUNDS, BUS_PREFIX, DB_NAME_PREFIX, ORDER_TTL_SECONDS, startBaselines, startStack } from './lib/stack.mjs';
import { analyse, formatAnalysis } from './profile-top.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, 'bench/results');
const BASELINE_PREFIX = 'bench-baseline';
const BASELINE_DB = 'bench_baseline';
// 50 sign-in accounts for 50 connections: one account signing in many times at once is what the
// per-account failure limit treats as guessing (attempts count until their password is checked).
const SEED = { listings: 200, readIds: 8, signinUsers: 50, buyers: 200 };

const log = (...args) => console.log(...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function readSettings(env) {
  const number = (name, def, min) => {
    const value = Number(env[name] ?? def);
    if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}, got ${env[name]}`);
    return value;
  };
  return {
    seconds: number('BENCH_SECONDS', 6, 1),
    warmupSeconds: number('BENCH_WARMUP_SECONDS', 2, 0),
    rounds: number('BENCH_ROUNDS', 5, 3),
    connections: number('BENCH_CONNECTIONS', 50, 1),
    bursts: number('BENCH_BURSTS', 5, 1),
    bcryptRounds: BCRYPT_ROUNDS,
    only: env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined,
    profile: env.BENCH_PROFILE === '1',
    gatewayNodeArgs: env.BENCH_GATEWAY_NODE_ARGS ? env.BENCH_GATEWAY_NODE_ARGS.split(/\s+/).filter(Boolean) : [],
    // `npm run bench:soak`: only the memory soak (BENCH_SOAK_SECONDS, 300), written to bench/results/soak-latest.*.
    soakSeconds: env.BENCH_SOAK === '1' ? number('BENCH_SOAK_SECONDS', 300, 130) : 0,
  };
}

function build() {
  log('Building (tsc -b)…');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    // Others are mid-change in the tree: tsc still emits, so bench what built and say so.
    log(`The build reported errors (benching what was emitted):\n${(result.stdout + result.stderr).trim().split('\n').slice(0, 10).join('\n')}`);
  }
  for (const service of ['api-gateway', 'users-service', 'listings-service']) {
    if (!existsSync(join(root, service, 'dist/main.js'))) throw new Error(`${service}/dist/main.js is missing after the build`);
  }
}

/** Nothing of an earlier (perhaps crashed) run may linger: databases, Redis keys, queues. */
async function cleanState() {
  await dropDatabases(DB_NAME_PREFIX);
  await deleteRedisKeys([`${BUS_PREFIX}:*`, `${BASELINE_PREFIX}:*`]);
  await deleteQueues([...benchQueues(BUS_PREFIX, ORDER_TTL_SECONDS), `${BASELINE_PREFIX}.rpc`]);
}

/** Accounts (a seller, a few to sign in, and the buyers when orders are benched) and listings, through the gateway. */
async function seed(client, { withBuyers }) {
  log('Seeding through the gateway…');
  const [seller] = await signUpMany(client, 'seller', 1);
  const signinUsers = await signUpMany(client, 'signin', SEED.signinUsers);
  const indexes = Array.from({ length: SEED.listings }, (_, i) => i);
  const listings = await mapLimit(indexes, 8, (i) => client.createListing(seller.token, i));
  const buyers = withBuyers ? await signUpMany(client, 'buyer', SEED.buyers) : [];
  const readIds = listings.slice(0, SEED.readIds).map((l) => l.id);
  log(`  ${1 + signinUsers.length + buyers.length} accounts, ${listings.length} listings`);
  return { seller, signinUsers, buyers, listingIds: listings.map((l) => l.id), readIds };
}

/** GETs `path` twice from the cached gateway: the body, and whether the second read was a hit. */
async function readTwice(client, path) {
  await client.request('GET', path, { expect: 200 });
  const res = await fetch(new URL(path, client.baseUrl));
  return { body: await res.text(), hit: res.headers.get('x-cache') === 'HIT' };
}

/** The baselines serve the very bodies and rows the project serves; also checks that the cached reads really hit. */
async function prepareBaselineData(client, sql, data) {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379');
  const notes = [];
  try {
    for (const id of data.readIds) {
      const { body, hit } = await readTwice(client, `/listings/${id}`);
      if (!hit) notes.push(`GET /listings/${id} was not a cache hit on the second read`);
      await redis.set(`${BASELINE_PREFIX}:listing:${id}`, body);
    }
    const page = await readTwice(client, '/listings?limit=20');
    if (!page.hit) notes.push('GET /listings?limit=20 was not a cache hit on the second read');
    await redis.set(`${BASELINE_PREFIX}:listings:l20o0`, page.body);
  } finally {
    redis.disconnect();
  }
  await copyListings(sql, `${DB_NAME_PREFIX}listings`, BASELINE_DB, data.listingIds);
  return notes;
}

const fmtRun = (r) => `${Math.round(r.reqPerSec)} req/s, p50 ${Math.round(r.p50)} ms, p99 ${Math.round(r.p99)} ms, ${r.errors} errors, RSS ${r.peakRssMb} MB`;

async function runScenario(scenario, settings, stack) {
  log(`\n${scenario.id}: ${scenario.title}  vs  ${scenario.baselineName}`);
  const preflight = scenario.preflight ? await scenario.preflight() : [];
  preflight.forEach((c) => log(`  ${c.pass ? 'PASS' : 'MISS'} ${c.target}: ${c.actual}`));
  const hopTimer = scenario.id === 'order-distinct' ? await startHopTimer({ gatewayOps: stack.gateways.cached.opsUrl, ordersOps: stack.opsUrls.orders }) : undefined;
  const rounds = [];
  for (let r = 1; r <= settings.rounds; r++) {
    const project = await scenario.project();
    await sleep(500);
    const baseline = await scenario.baseline();
    await sleep(500);
    rounds.push({ project, baseline });
    log(`  round ${r}/${settings.rounds}  project: ${fmtRun(project)}  |  baseline: ${fmtRun(baseline)}`);
  }
  const hops = await hopTimer?.finish();
  if (hops) log(formatHops(hops));
  return summarizeScenario(scenario, rounds, { preflight, hops });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    totalMemoryGb: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function printProfiles(dir) {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    log(`\nCPU profile ${join(dir, file)}\n${formatAnalysis(analyse(JSON.parse(readFileSync(join(dir, file), 'utf8'))))}`);
  }
}

// ---- the run -----------------------------------------------------------------------------------

const settings = readSettings(process.env);
const startedAt = new Date().toISOString();
const group = new ProcessGroup(join(os.tmpdir(), 'market-bench-logs'));
const profileDir = settings.profile ? join(resultsDir, 'profiles', startedAt.replaceAll(':', '-')) : undefined;
let sql;
let shutdown;

/** Stops every child (waiting for each to exit) and drops what the bench created. Runs once. */
function stopEverything() {
  shutdown ??= (async () => {
    await sql?.end().catch(() => undefined);
    await group.stop();
    await cleanState().catch((err) => console.error(`cleanup: ${err.message}`));
  })();
  return shutdown;
}

process.on('exit', () => group.killAllNow());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`\n${signal}: stopping the bench stack…`);
    stopEverything().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

async function main() {
  const machineAtStart = machine();
  build();
  await cleanState();
  log('Starting the bench stack…');
  const stack = await startStack(group, root, { profileDir, gatewayNodeArgs: settings.gatewayNodeArgs });
  const skipped = stack.ordersSkipReason ? [`order scenarios (POST /orders distinct, 200-buyer burst): ${stack.ordersSkipReason}`] : [];
  skipped.forEach((line) => log(`SKIPPED ${line}`));

  sql = await mysql.createConnection(mysqlOptions());
  const client = new GatewayClient(stack.gateways.cached.url);
  const selected = (id) => !settings.only || settings.only.includes(id);
  const data = await seed(client, { withBuyers: Boolean(stack.orders) && (selected('order-distinct') || selected('order-burst')) });
  log('Starting the baselines…');
  const baselines = await startBaselines(group, root);
  const notes = await prepareBaselineData(client, sql, data);
  notes.forEach((n) => log(`NOTE ${n}`));

  if (settings.soakSeconds) {
    log(`\nSoak: ${settings.soakSeconds} s of cached reads on the gateway…`);
    const result = await soak({ target: stack.gateways.cached, paths: data.readIds.map((id) => `/listings/${id}`), seconds: settings.soakSeconds, connections: settings.connections, log });
    await stopEverything();
    const report = { finishedAt: new Date().toISOString(), machine: machineAtStart, ...result };
    writeFileSync(join(resultsDir, 'soak-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(resultsDir, 'soak-latest.md'), `Measured ${report.finishedAt.slice(0, 10)} on ${machineAtStart.cpuModel} (${machineAtStart.cores} cores), Node ${machineAtStart.node}, no heap cap.\n\n${formatSoak(result)}\n`);
    log(`\n${formatSoak(result)}\nResults: bench/results/soak-latest.json, bench/results/soak-latest.md`);
    return;
  }

  const ctx = { settings, stack, baselines, data, sql, client, busPrefix: BUS_PREFIX, databases: { listings: `${DB_NAME_PREFIX}listings`, baseline: BASELINE_DB } };
  const scenarios = buildScenarios(ctx).filter((s) => selected(s.id));
  const summaries = [];
  for (const scenario of scenarios) summaries.push(await runScenario(scenario, settings, stack));

  await stopEverything();
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machineAtStart, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    settings: { ...settings, busPrefix: BUS_PREFIX, dbNamePrefix: DB_NAME_PREFIX, orderTtlSeconds: ORDER_TTL_SECONDS, rateLimitMax: 1_000_000_000 },
    skipped,
    notes,
    scenarios: summaries,
  };
  log(`\n${textTable(summaries)}\n\n${baselineLegend(summaries)}\n\nTargets:\n${targetLines(summaries)}`);
  skipped.forEach((line) => log(`SKIPPED ${line}`));
  const experiment = Boolean(settings.only) || settings.profile || settings.gatewayNodeArgs.length > 0;
  const file = writeResults(resultsDir, report, { latest: !experiment });
  log(`\nResults: ${file}${experiment ? '' : ', bench/results/latest.json, bench/results/latest.md'}`);
  if (profileDir) printProfiles(profileDir);
}

main().catch(async (err) => {
  console.error(`\nbench failed: ${err.stack ?? err}`);
  await stopEverything();
  process.exit(1);
});
