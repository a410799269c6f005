import { execFile, spawnSync } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { eventually } from './wait';

// Asynchronous on purpose: the stack under test runs in this process, and a synchronous child
// process would freeze it, making every request in flight look slow.
const execFileAsync = promisify(execFile);
/** A server tool that does not answer within a minute fails the drill instead of hanging it. */
const run = (file: string, args: string[]) => execFileAsync(file, args, { timeout: 60_000 });

/**
 * Stopping and starting the local servers for the failure drills. Every drill that stops one starts
 * it again in a `finally`, and `ensureAllRunning` (in afterAll) is the last line of defence.
 */
export async function stopRabbit(): Promise<void> {
  await run('rabbitmqctl', ['-q', 'stop_app']);
}

export async function startRabbit(): Promise<void> {
  await run('rabbitmqctl', ['-q', 'start_app']);
  await run('rabbitmqctl', ['-q', 'await_startup']);
}

export async function stopRedis(): Promise<void> {
  await run('redis-cli', ['-p', '6379', 'shutdown', 'nosave']).catch(() => undefined); // answers with a dropped connection
}

export async function startRedis(): Promise<void> {
  await run('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log']);
}

export function redisRunning(): boolean {
  return spawnSync('redis-cli', ['-p', '6379', 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
}

export function rabbitRunning(): boolean {
  return spawnSync('rabbitmq-diagnostics', ['-q', 'check_running'], { stdio: 'ignore' }).status === 0;
}

/** Like `eventually`, for a server's state: a server that does not get there fails the drill. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  if (!(await eventually(check, timeoutMs, 200))) throw new Error('server did not come back in time');
}

export async function ensureAllRunning(): Promise<void> {
  if (!rabbitRunning()) await startRabbit();
  if (!redisRunning()) {
    await startRedis();
    await waitFor(redisRunning);
  }
}

/**
 * A TCP proxy in front of a server: `cut()` drops every connection and refuses new ones, as an
 * unreachable host would; `restore()` lets traffic through again. Used for "MySQL unreachable".
 */
export async function startProxy(target: { host: string; port: number }): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(target);
    sockets.add(client).add(upstream);
    const forget = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.pipe(upstream).pipe(client);
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
