#!/usr/bin/env node
// `npm start`: build, make sure RabbitMQ/Redis/MariaDB answer (starting the local ones), then run the
// five services (each creates and migrates its own database) and wait until the gateway is ready.
// Ctrl-C (or SIGTERM) stops every service cleanly: each drains its in-flight work and exits.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

console.log('Building…');
const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

await ensureServers();

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

const deadline = Date.now() + 60_000;
while (!stopping && Date.now() < deadline) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    if (res.ok) {
      console.log(`\nmarket is up at http://localhost:${port}  (API docs: http://localhost:${port}/docs)  Ctrl-C stops it.\n`);
      break;
    }
  } catch {
    // not listening yet
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
