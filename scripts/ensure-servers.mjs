#!/usr/bin/env node
// Makes sure RabbitMQ, Redis and MySQL/MariaDB answer before the stack or the tests need them:
// detect (a real protocol round trip, not just an open port), start the local server when it is
// installed here and not running, and wait until it answers. Used by `npm start`, `npm test`, CI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import amqp from 'amqplib';
import mysql from 'mysql2/promise';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://localhost:6379';
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@localhost:3306';

const isLocal = (url) => ['localhost', '127.0.0.1', '::1', '[::1]'].includes(new URL(url).hostname);

async function rabbitAnswers() {
  const connection = await amqp.connect(RABBITMQ_URL, { timeout: 2000 });
  await connection.close();
}

function redisAnswers() {
  const url = new URL(REDIS_URL);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    socket.setTimeout(2000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(url.password ? `AUTH ${decodeURIComponent(url.password)}\r\nPING\r\n` : 'PING\r\n'));
    socket.on('data', (data) => {
      if (data.toString().includes('+PONG')) {
        socket.end();
        resolve();
      } else if (data.toString().startsWith('-')) {
        socket.destroy();
        reject(new Error(data.toString().trim()));
      }
    });
  });
}

async function mysqlAnswers() {
  const connection = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2000 });
  await connection.query('SELECT 1');
  await connection.end();
}

const servers = [
  {
    name: 'RabbitMQ',
    url: RABBITMQ_URL,
    check: rabbitAnswers,
    binary: '/usr/sbin/rabbitmq-server',
    start: () => spawnSync('rabbitmq-server', ['-detached'], { stdio: 'ignore' }),
  },
  {
    name: 'Redis',
    url: REDIS_URL,
    check: redisAnswers,
    binary: '/usr/bin/redis-server',
    start: () =>
      spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'], { stdio: 'ignore' }),
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    check: mysqlAnswers,
    binary: '/usr/sbin/mariadbd',
    start: () => spawnSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd'], { stdio: 'ignore' }),
  },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function ensure(server, timeoutMs = 90_000) {
  try {
    await server.check();
    return;
  } catch {
    // not answering: start it if it lives here
  }
  if (!isLocal(server.url) || !existsSync(server.binary)) {
    console.log(`${server.name} at ${new URL(server.url).host} is not answering yet; waiting for it…`);
  } else {
    console.log(`${server.name} is not running; starting it…`);
    server.start();
  }
  const until = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < until) {
    try {
      await server.check();
      console.log(`${server.name} is ready.`);
      return;
    } catch (err) {
      lastError = err;
      await sleep(500);
    }
  }
  throw new Error(`${server.name} did not answer within ${timeoutMs / 1000}s: ${lastError?.message}`);
}

export async function ensureServers() {
  await Promise.all(servers.map((s) => ensure(s)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureServers().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}

