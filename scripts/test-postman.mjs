#!/usr/bin/env node
// `npm run test:postman`: runs the Postman collection (postman/) with newman against a running stack.
// When POSTMAN_BASE_URL (default http://localhost:8080) answers /readyz, that stack is used and left
// running; otherwise `node scripts/start.mjs` starts one (in its own process group, its output in a
// log file) and the collection runs once start.mjs reports the whole stack up; it is stopped again at
// the end. Requests are paced (POSTMAN_DELAY_MS, default 2100 ms) so the run stays within the default
// rate limit of 5 requests per 10 s per client.
// POSTMAN_ADMIN_EMAIL and POSTMAN_ADMIN_PASSWORD replace the environment's admin account (the
// development one, admin@market.local / market-admin-dev) for a stack with its own, such as compose
// with ADMIN_EMAIL / ADMIN_PASSWORD from .env.
// Fails when an assertion failed, a request or a script errored, or no assertion ran at all.
// It then lints the OpenAPI document the stack serves with @redocly/cli (errors fail the run).
// The last line is `N passed, M failed` (assertion counts).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const newman = require('newman');

const baseUrl = (process.env.POSTMAN_BASE_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
const delayRequest = Number(process.env.POSTMAN_DELAY_MS ?? 2100);
const startTimeoutMs = Number(process.env.POSTMAN_START_TIMEOUT_MS ?? 90_000);
const collection = join(root, 'postman/market.postman_collection.json');
const environment = join(root, 'postman/market.postman_environment.json');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready() {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

function logSays(file, text) {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** The stack this script started, if any. */
let stack;

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function startStack() {
  const url = new URL(baseUrl);
  if (!['localhost', '127.0.0.1', '::1', '[::1]'].includes(url.hostname)) {
    throw new Error(`${baseUrl}/readyz does not answer 200, and a stack can only be started here for a local address.`);
  }
  const logFile = join(tmpdir(), `market-postman-stack-${process.pid}.log`);
  const log = openSync(logFile, 'w');
  console.log(`No ready stack at ${baseUrl}; starting one with scripts/start.mjs (log: ${logFile})…`);
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
    cwd: root,
    env: { ...process.env, PORT: url.port || '80' },
    stdio: ['ignore', log, log],
    detached: true, // its own process group: stopped as a whole below
  });
  closeSync(log);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  stack = { child, exited, logFile, done: false };
  void exited.then(() => {
    stack.done = true;
  });

  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (stack.done) {
      const { code, signal } = await exited;
      throw new Error(`scripts/start.mjs exited (${signal ?? code}) before the stack was ready. Last lines of its log:\n${tail(logFile)}`);
    }
    // The gateway's /readyz is the gateway alone (it is ready with users-service still starting):
    // start.mjs says when every service is ready and reports its dependencies up.
    if (logSays(logFile, 'Market is at ') && (await ready())) {
      console.log(`The stack is ready at ${baseUrl}.`);
      return;
    }
    await sleep(500);
  }
  throw new Error(`The stack was not ready within ${startTimeoutMs / 1000} s. Last lines of its log:\n${tail(logFile)}`);
}

async function stopStack() {
  if (!stack || stack.done) return;
  console.log('Stopping the stack this run started…');
  const group = -stack.child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    // already gone
  }
  // start.mjs stops each service (they drain in-flight work) and exits; it gives them 20 s.
  const stopped = await Promise.race([stack.exited.then(() => true), sleep(30_000).then(() => false)]);
  if (!stopped) {
    console.error('The stack did not stop within 30 s; killing it.');
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([stack.exited, sleep(5_000)]);
  }
}

function runCollection() {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection,
        environment,
        envVar: [
          { key: 'baseUrl', value: baseUrl },
          ...(process.env.POSTMAN_ADMIN_EMAIL ? [{ key: 'adminEmail', value: process.env.POSTMAN_ADMIN_EMAIL }] : []),
          ...(process.env.POSTMAN_ADMIN_PASSWORD ? [{ key: 'adminPassword', value: process.env.POSTMAN_ADMIN_PASSWORD }] : []),
        ],
        delayRequest,
        timeoutRequest: 30_000,
        reporters: 'cli',
      },
      (err, summary) => (err ? reject(err) : resolve(summary)),
    );
  });
}

/**
 * Lints the OpenAPI document the stack serves with Redocly's CLI (its recommended rules): CI fails on
 * any error. Warnings are printed and allowed.
 */
async function lintServedOpenApi() {
  const res = await fetch(`${baseUrl}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) return `GET /openapi.json answered ${res.status}`;
  const file = join(tmpdir(), `market-openapi-${process.pid}.json`);
  writeFileSync(file, await res.text());
  const cli = require.resolve('@redocly/cli/bin/cli.js');
  const child = spawn(process.execPath, [cli, 'lint', file, '--format=summary'], {
    cwd: root,
    stdio: 'inherit',
    // No telemetry and no update check: only the npm registry is reachable where this runs.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  const code = await new Promise((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return code === 0 ? undefined : `redocly lint of the served OpenAPI document found errors (exit ${code})`;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping.`);
    void stopStack().finally(() => process.exit(1));
  });
}

let passed = 0;
let failed = 0;
let ok = false;
try {
  if (await ready()) console.log(`Using the stack already running at ${baseUrl} (it is left running).`);
  else await startStack();

  const summary = await runCollection();
  const { stats } = summary.run;
  const total = stats.assertions.total;
  failed = stats.assertions.failed;
  passed = total - failed;
  const requestErrors = summary.run.executions.filter((e) => e.requestError).length;
  const scriptErrors = stats.testScripts.failed + stats.prerequestScripts.failed;
  const problems = [];
  if (failed > 0) problems.push(`${failed} assertion(s) failed`);
  if (requestErrors > 0) problems.push(`${requestErrors} request(s) errored`);
  if (scriptErrors > 0) problems.push(`${scriptErrors} script(s) threw`);
  if (summary.error) problems.push(`newman: ${summary.error.message ?? summary.error}`);
  if (total === 0) problems.push('no assertion ran');
  if (summary.run.timings?.started && summary.run.timings?.completed) {
    console.log(`${stats.requests.total} requests in ${((summary.run.timings.completed - summary.run.timings.started) / 1000).toFixed(1)} s`);
  }
  console.log(`Linting ${baseUrl}/openapi.json with @redocly/cli…`);
  const lint = await lintServedOpenApi();
  if (lint) problems.push(lint);
  if (problems.length) console.error(`Postman run failed: ${problems.join('; ')}.`);
  ok = problems.length === 0;
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
} finally {
  await stopStack();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
