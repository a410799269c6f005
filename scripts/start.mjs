#!/usr/bin/env node
// `npm start`: build, make sure RabbitMQ/Redis/MariaDB answer (starting the local ones), then run the
// five services (each creates and migrates its own database) and wait until every one of them is ready
// and reports its dependencies up.
// Ctrl-C (or SIGTERM) stops every service cleanly: each drains its in-flight work and exits.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServers } from './ensure-servers.mjs';
import { generateKeys, keysFor, SERVICE_KEY_VARIABLES } from './keys.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));

const SERVICES = ['users-service', 'listings-service', 'orders-service', 'payments-service', 'api-gateway'];
const BUS_NAME = { 'users-service': 'users', 'listings-service': 'listings', 'orders-service': 'orders', 'payments-service': 'payments', 'api-gateway': 'api-gateway' };
// No heap cap on any service: a cap small enough to matter made Node 24's collector take a third of
// the gateway's time. Memory is bounded by the container's limit, set from a measured soak (README).
const NODE_ARGS = {};
const port = process.env.PORT ?? '8080';

// A development admin, so the Postman collection can issue coupons out of the box. Never in production.
if (process.env.NODE_ENV !== 'production' && !process.env.ADMIN_EMAIL) {
  process.env.ADMIN_EMAIL = 'admin@market.local';
  process.env.ADMIN_PASSWORD = 'market-admin-dev';
}

/**
 * The keys: from the environment (.env) when configured; otherwise, outside production, one development
 * set made on the first start and kept in .keys/ (git-ignored, readable by this user only). No key is a
 * constant in the code, so no two installations share one.
 */
function loadKeys() {
  const names = ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS', 'SERVICE_PUBLIC_KEYS', ...Object.values(SERVICE_KEY_VARIABLES)];
  if (names.every((n) => process.env[n])) return Object.fromEntries(names.map((n) => [n, process.env[n]]));
  if (process.env.NODE_ENV === 'production') {
    console.error(`Missing keys: ${names.filter((n) => !process.env[n]).join(', ')}. Make them with \`npm run --silent keys >> .env\`.`);
    process.exit(1);
  }
  const file = join(root, '.keys', 'development.env');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${Object.entries(generateKeys()).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    console.log(`Made development keys in ${file} (kept out of git).`);
  }
  return Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}
const keys = loadKeys();

// The whole build, as CI runs it: the services (tsc -b) and the storefront the gateway serves at /.
console.log('Building…');
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
const build = spawnSync(npm[0], [...npm[1], 'run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

await ensureServers();

// Another stack (or anything) on the gateway's port would answer our readiness checks: refuse instead.
const portTaken = await new Promise((resolve) => {
  const probe = createServer()
    .once('error', (err) => resolve(err.code === 'EADDRINUSE'))
    .once('listening', () => probe.close(() => resolve(false)))
    .listen(Number(port), process.env.HOST ?? '127.0.0.1');
});
if (portTaken) {
  console.error(`Port ${port} is already in use (another market stack?): stop it, or start this one with PORT=<another port>.`);
  process.exit(1);
}

const children = new Map();
let stopping = false;

for (const service of SERVICES) {
  const child = spawn(process.execPath, [...(NODE_ARGS[service] ?? []), join(root, service, 'dist/main.js')], {
    cwd: root,
    env: { ...process.env, ...keysFor(BUS_NAME[service], keys) },
    stdio: ['ignore', 'inherit', 'inherit'],
    // Own process group: a terminal's Ctrl-C reaches only us, and we stop the services in order.
    detached: true,
  });
  children.set(service, child);
  child.on('exit', (code, signal) => {
    children.delete(service);
    if (!stopping) {
      console.error(`${service} exited (${signal ?? code}); stopping the stack.`);
      stop(1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
}

let exitCode = 0;
function stop(code) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  console.log('Stopping market…');
  for (const child of children.values()) child.kill('SIGTERM');
  if (children.size === 0) process.exit(code);
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(1);
  }, 20_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// Ready means the whole stack can serve, which no single endpoint says: a gateway is ready (it serves
// what it can) with users-service or a dependency down. So every process must be ready (/readyz) and
// report each of its dependencies up (/health/dependencies, on its internal port: users-service's own
// port, the ops port METRICS_PORT of the others, each at its default as nothing here sets it).
const PROCESSES = {
  'api-gateway': { readyz: `http://127.0.0.1:${port}/readyz`, dependencies: 'http://127.0.0.1:9100/health/dependencies' },
  'users-service': { base: `http://127.0.0.1:${process.env.USERS_PORT ?? '3001'}` },
  'listings-service': { base: 'http://127.0.0.1:9101' },
  'orders-service': { base: 'http://127.0.0.1:9102' },
  'payments-service': { base: 'http://127.0.0.1:9103' },
};

/** What keeps one process from serving everything, or undefined when nothing does. */
async function missingIn(name, { base, readyz = `${base}/readyz`, dependencies = `${base}/health/dependencies` }) {
  try {
    const ready = await fetch(readyz, { signal: AbortSignal.timeout(2000) });
    const { reason } = await ready.json().catch(() => ({}));
    if (!ready.ok) return `${name} (${reason ?? `readyz answers ${ready.status}`})`;
    const report = await fetch(dependencies, { signal: AbortSignal.timeout(2000) });
    if (report.ok) return undefined;
    const { dependencies: states = {} } = await report.json().catch(() => ({}));
    const down = Object.entries(states).filter(([, s]) => s?.status !== 'up').map(([dep, s]) => `${dep} ${s?.error ?? 'down'}`);
    return `${name} (${down.length ? down.join(', ') : `dependencies answer ${report.status}`})`;
  } catch {
    return `${name} (not answering yet)`;
  }
}

const READY_TIMEOUT_MS = 60_000;
const deadline = Date.now() + READY_TIMEOUT_MS;
let lastReadiness = 'no service answers yet';
let ready = false;
while (!stopping && Date.now() < deadline) {
  const missing = (await Promise.all(Object.entries(PROCESSES).map(([name, where]) => missingIn(name, where)))).filter(Boolean);
  if (missing.length === 0) {
    ready = true;
    // The address first: it is what a newcomer looks for in the output.
    console.log(`Market is at http://localhost:${port}/`);
    console.log(`  the storefront is there; the API is documented at http://localhost:${port}/docs. Ctrl-C stops it.\n`);
    break;
  }
  lastReadiness = `waiting for ${missing.join('; ')}`;
  await new Promise((resolve) => setTimeout(resolve, 500));
}
if (!ready && !stopping) {
  console.error(`\nmarket is not ready after ${READY_TIMEOUT_MS / 1000} s: ${lastReadiness}. Still running: ${[...children.keys()].join(', ')}. Their logs are above; Ctrl-C stops it.\n`);
}
