import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './servers';
import { eventually } from './wait';

/**
 * A throwaway RabbitMQ cluster of real nodes on this machine (m1@localhost, m2@localhost, ...),
 * beside the shared broker `rabbit@localhost` on 5672, which it never touches: every node has its
 * own directories, config file, env file, AMQP port and distribution port, all under one directory
 * in the temp dir that `teardown()` deletes.
 *
 * How it runs the RabbitMQ tools: as the `rabbitmq` user (through `runuser` when we are root), straight
 * from /usr/lib/rabbitmq/bin rather than through the /usr/sbin wrappers, whose `su` puts the tool in
 * a session of its own where a timeout could not reach it. The tools run with HOME=/var/lib/rabbitmq,
 * so the nodes and the CLI all use the rabbitmq user's Erlang cookie, the one the shared broker uses
 * (no cookie is written or changed). Every command is killed, with its whole process group, if it
 * has not finished within a minute.
 *
 * Every process the harness starts carries RABBIT_CLUSTER_HARNESS_NODE in its environment, which is
 * how a later run finds (and kills) nodes left over by a run that crashed: the shared broker's
 * processes never have it. Node names and ports are machine-wide, so there is one cluster per machine
 * at a time: a lock file in the temp dir says whose it is (a live owner is an error, a dead one's
 * leftovers are cleaned up), and a detached watchdog cleans up if the test process dies without
 * calling `teardown()`.
 */

export interface RabbitClusterNode {
  /** Erlang node name, e.g. `m1@localhost`. */
  name: string;
  amqpPort: number;
  /** Erlang distribution (inter-node and CLI) port. */
  distPort: number;
  /** `amqp://guest:guest@127.0.0.1:<amqpPort>` (guest may connect, from loopback only). */
  url: string;
}

export type StopMode = 'stop' | 'stop_app' | 'kill';

export interface RabbitCluster {
  /** The directory holding every node's data, logs, config and pid file. */
  dir: string;
  nodes: RabbitClusterNode[];
  /** Every node's URL, comma-separated, in node order. */
  urls: string;
  node(name: string): RabbitClusterNode;
  /**
   * Takes a node down and resolves once its AMQP port is closed. Modes:
   * - `stop` (default): a graceful shutdown that ends with the Erlang VM exiting, as a node taken out
   *   for maintenance or a pod deleted would: it leaves the distribution, its dist port closes, and
   *   coming back is a real boot (about 6 s here) that rejoins the cluster from its own data.
   * - `stop_app`: stops RabbitMQ but keeps the VM up and connected to its peers; quicker both ways
   *   (about 0.5 s down, 2.5 s back) but not what a real outage looks like.
   * - `kill`: SIGKILL of the VM, a crash: no goodbye to clients or peers.
   * Every mode is followed by a leader election for the quorum queues it led.
   */
  stopNode(name: string, opts?: { mode?: StopMode }): Promise<void>;
  /** Brings a stopped node back and waits until it is running and its peers count it as running again. */
  startNode(name: string): Promise<void>;
  /** `running_nodes` of `cluster_status`, asked of `via` (default: the first node the harness believes up). */
  runningNodes(via?: string): Promise<string[]>;
  /**
   * The node whose member of the quorum queue is the Raft leader. While a leader is being elected
   * (or is not known yet) it keeps asking, until `timeoutMs` (default 30 s) has passed; with `not`,
   * it waits until the leader is some other node (for example the one just stopped).
   */
  queueLeader(queueName: string, vhost?: string, opts?: { timeoutMs?: number; not?: string }): Promise<string>;
  /**
   * One look, no waiting (`rabbitmq-queues quorum_status`, asked of nodes believed up): the member that
   * says it leads, with the highest term if a deposed leader has not heard yet; undefined while
   * there is none (an election), or if the queue does not exist.
   */
  currentQueueLeader(queueName: string, vhost?: string): Promise<string | undefined>;
  /** Runs `rabbitmqctl -n <node> ...args` (e.g. `['-q', 'list_queues', 'name', 'messages']`) and returns its stdout; rejects with a RabbitCommandError. */
  ctl(nodeName: string, args: string[], timeoutMs?: number): Promise<string>;
  /** Stops every node (killing any that does not stop), deletes `dir`, releases the lock. Idempotent; never throws. */
  teardown(): Promise<void>;
}

export interface StartRabbitClusterOptions {
  /** Number of nodes (default 3). */
  nodes?: number;
  /** AMQP port of the first node (default 5701); node i gets basePort + i, distribution port basePort + 20000 + i. */
  basePort?: number;
  /** Where the nodes' directory goes (default: the OS temp dir); the rabbitmq user must be able to reach it. */
  tmpRoot?: string;
  /** Progress lines with timings (e.g. `console.log`); silent by default. */
  log?: (line: string) => void;
}

const RABBIT_BIN = '/usr/lib/rabbitmq/bin';
const RABBIT_HOME = '/var/lib/rabbitmq';
const SHARED_NODE = 'rabbit@localhost';
const MARKER = 'RABBIT_CLUSTER_HARNESS_NODE';
/** Longest any single tool may run: a hung node fails the drill instead of hanging it. */
const COMMAND_TIMEOUT_MS = 60_000;

export class RabbitCommandError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
    readonly code: number | string | null,
  ) {
    super(message);
  }
}

interface NodeSetup extends RabbitClusterNode {
  dir: string;
  pidFile: string;
  env: Record<string, string>;
}

/** `m1` of `m1@localhost`: the name epmd knows. */
const shortName = (n: { name: string }): string => n.name.split('@')[0] as string;

// ---------------------------------------------------------------------------------------------
// Running the tools

const asRabbitmqUser = (file: string, args: string[]): [string, string[]] => {
  const uid = process.getuid?.();
  if (uid === 0) return ['runuser', ['-u', 'rabbitmq', '--', file, ...args]];
  if (os.userInfo().username === 'rabbitmq') return [file, args];
  throw new Error('the RabbitMQ cluster harness must run as root (or as the rabbitmq user)');
};

/**
 * Runs a RabbitMQ tool as the rabbitmq user and resolves with its stdout. It runs in a process group
 * of its own, and on timeout the whole group is killed: the Erlang VM behind the CLI is a descendant
 * of the process we start, and killing only that one would orphan it. (`execFile` cannot do this: it
 * does not pass `detached` on to `spawn`.)
 */
function runTool(tool: string, args: string[], env: Record<string, string>, cwd: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  const [file, fullArgs] = asRabbitmqUser(path.join(RABBIT_BIN, tool), args);
  const shown = `${tool} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(file, fullArgs, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killGroup(child.pid);
      // Settle now rather than on 'close': a daemon it forked could hold the pipes open for ever.
      child.stdout.destroy();
      child.stderr.destroy();
      fail(`timed out after ${timeoutMs} ms`, 'ETIMEDOUT');
    }, timeoutMs);
    const fail = (why: string, code: number | string | null): void => {
      const detail = `${stderr}\n${stdout}`.trim().split('\n').slice(0, 12).join('\n');
      reject(new RabbitCommandError(`${shown} ${why}${detail ? `:\n${detail}` : ''}`, stdout, stderr, code));
    };
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(`could not run (${err.message})`, null);
    });
    // 'close', not 'exit': all output has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return;
      if (code === 0) resolve(stdout);
      else fail(`failed (${code ?? signal})`, code ?? signal);
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function within(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  try {
    await waitFor(check, timeoutMs);
  } catch {
    throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
  }
}

// ---------------------------------------------------------------------------------------------
// Ports, epmd, processes

/** True if nothing listens on 127.0.0.1:port (tried by listening on it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The node names (without host) registered with epmd on this machine: the NAMES_REQ of the epmd protocol. */
export function epmdNames(port = Number(process.env.ERL_EPMD_PORT ?? 4369)): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(Buffer.from([0, 1, 110])));
    socket.setTimeout(5000, () => socket.destroy(new Error('epmd did not answer')));
    socket.on('data', (d) => chunks.push(d));
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve([]) : reject(err)));
    socket.once('close', (hadError) => {
      if (hadError) return;
      const text = Buffer.concat(chunks).subarray(4).toString('utf8');
      resolve([...text.matchAll(/^name (\S+) at port \d+$/gm)].map((m) => m[1] as string));
    });
  });
}

/** Processes started by this harness (any run): pid and the node they belong to, from their environment. */
export function harnessProcesses(): { pid: number; node: string }[] {
  const found: { pid: number; node: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    const hit = environ.split('\0').find((kv) => kv.startsWith(`${MARKER}=`));
    if (hit) found.push({ pid: Number(entry), node: hit.slice(MARKER.length + 1) });
  }
  return found.filter((p) => p.pid !== process.pid);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function killHarnessProcesses(): number[] {
  const victims = harnessProcesses();
  for (const { pid } of victims) killPid(pid);
  return victims.map((v) => v.pid);
}

// ---------------------------------------------------------------------------------------------
// One cluster per machine: node names and ports are machine-wide

const LOCK_FILE = path.join(os.tmpdir(), 'market-rabbit-cluster.lock');

interface LockOwner {
  pid: number;
  dir: string;
  since: string;
}

const isNodeProcess = (pid: number): boolean => {
  try {
    return alive(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('node');
  } catch {
    return false;
  }
};

/** Our directories, and only those, may be deleted on the word of a lock file in a world-writable dir. */
const isClusterDir = (dir: string): boolean => path.isAbsolute(dir) && /^market-rabbit-cluster-\d+$/.test(path.basename(dir));

/**
 * Takes the machine-wide lock. If the run that held it is gone (it crashed), its directory goes (its
 * processes are killed by the clean slate that follows). A run still in progress in another process
 * is an error: its nodes have the same names, and killing them would wreck it.
 */
function takeLock(dir: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(LOCK_FILE, JSON.stringify({ pid: process.pid, dir, since: new Date().toISOString() } satisfies LockOwner), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: Partial<LockOwner> = {};
    try {
      owner = JSON.parse(fs.readFileSync(LOCK_FILE, 'utf8')) as LockOwner;
    } catch {
      // unreadable or half-written: treat as stale
    }
    if (owner.pid && owner.pid !== process.pid && isNodeProcess(owner.pid)) {
      throw new Error(`another RabbitMQ cluster run is in progress (pid ${owner.pid}, since ${owner.since}, ${owner.dir}); run cluster drills one at a time (--runInBand), or remove ${LOCK_FILE} if that process is not one`);
    }
    fs.rmSync(LOCK_FILE, { force: true });
    if (owner.dir && owner.dir !== dir && isClusterDir(owner.dir)) fs.rmSync(owner.dir, { recursive: true, force: true });
  }
  throw new Error(`could not take ${LOCK_FILE}`);
}

function releaseLock(): void {
  try {
    const owner = JSON.parse(fs.readFileSync(LOCK_FILE, 'utf8')) as LockOwner;
    if (owner.pid === process.pid) fs.rmSync(LOCK_FILE, { force: true });
  } catch {
    // not there, or not ours
  }
}

/**
 * The last line of defence, for a test process that dies without `teardown()` (a crash, Ctrl-C, a
 * failed beforeAll with no afterAll, jest exiting). A `process.on('exit')` hook would not do: jest
 * gives each test file a `process` of its own whose 'exit' never fires. So a small detached shell
 * watches this process and, once it is gone, kills the nodes (and anything else carrying the
 * harness marker), deletes the directory and releases the lock. `teardown()` kills the watchdog.
 */
const WATCHDOG = [
  'parent=$1; dir=$2; lock=$3; marker=$4',
  'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
  'for e in /proc/[0-9]*/environ; do',
  '  p=${e#/proc/}; p=${p%/environ}',
  '  tr "\\0" "\\n" < "$e" 2>/dev/null | grep -q "^$marker=" && kill -9 "$p" 2>/dev/null',
  'done',
  'rm -rf "$dir"',
  'grep -q "\\"pid\\":$parent," "$lock" 2>/dev/null && rm -f "$lock"',
  'exit 0',
].join('\n');

function startWatchdog(dir: string): number | undefined {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'rabbit-cluster-watchdog', String(process.pid), dir, LOCK_FILE, MARKER], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, // no marker: it must not kill itself
  });
  child.unref();
  return child.pid;
}

// ---------------------------------------------------------------------------------------------
// Node setup

function nodeSetup(root: string, index: number, basePort: number): NodeSetup {
  const short = `m${index + 1}`;
  const name = `${short}@localhost`;
  const amqpPort = basePort + index;
  const distPort = basePort + 20000 + index;
  const dir = path.join(root, short);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: RABBIT_HOME, // runuser sets it too; the CLI and the node read the Erlang cookie from here
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    [MARKER]: name,
    RABBITMQ_NODENAME: name,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbit.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    // With the extension: 3.10 takes the .conf path as is (and would add ".conf" if it were missing).
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    // An empty conf.d of its own, an advanced.config that does not exist, and its own (empty) env file
    // instead of /etc/rabbitmq/rabbitmq-env.conf, which names the shared node: nothing of the shared
    // broker's configuration reaches these nodes.
    RABBITMQ_CONFIG_FILES: path.join(dir, 'conf.d'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    // What /etc/rabbitmq/rabbitmq-env.conf gives the shared node: epmd and distribution on loopback only.
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    // With the node's files, not in the working directory.
    ERL_CRASH_DUMP: path.join(dir, 'erl_crash.dump'),
  };
  return { name, amqpPort, distPort, url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, dir, pidFile: env.RABBITMQ_PID_FILE as string, env };
}

function writeNodeFiles(node: NodeSetup): void {
  for (const sub of ['mnesia', 'log', 'conf.d']) fs.mkdirSync(path.join(node.dir, sub), { recursive: true });
  fs.writeFileSync(path.join(node.dir, 'enabled_plugins'), '[].\n');
  fs.writeFileSync(path.join(node.dir, 'rabbitmq-env.conf'), '# intentionally empty: see test/support/rabbit-cluster.ts\n');
  fs.writeFileSync(
    path.join(node.dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${node.amqpPort}`,
      // The default, spelled out: guest/guest may connect, from loopback only.
      'loopback_users.guest = true',
      'log.console = false',
      'log.file.level = info',
      '',
    ].join('\n'),
  );
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.chownSync(p, uid, gid);
  }
}

function rabbitmqIds(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('rabbitmq:'));
  if (!line) throw new Error('there is no rabbitmq user: is the rabbitmq-server package installed?');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const readPid = (file: string): number | undefined => {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// The cluster

/**
 * Starts an N-node cluster (default 3: m1..m3@localhost on 5701..5703) from scratch: anything a
 * crashed earlier run left (processes, directories) is removed first. Resolves once
 * `cluster_status` on m1 shows all N nodes running; on any failure it tears down what it started
 * and rejects.
 */
export async function startRabbitCluster(opts: StartRabbitClusterOptions = {}): Promise<RabbitCluster> {
  const count = opts.nodes ?? 3;
  const basePort = opts.basePort ?? 5701;
  if (!Number.isInteger(count) || count < 1) throw new Error(`nodes must be a positive integer, not ${count}`);
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + 20000 + count > 65535) throw new Error(`basePort ${basePort} leaves no room for ${count} AMQP ports and their distribution ports (+20000)`);
  const root = path.join(opts.tmpRoot ?? os.tmpdir(), `market-rabbit-cluster-${basePort}`);
  const nodes = Array.from({ length: count }, (_, i) => nodeSetup(root, i, basePort));
  const byName = new Map(nodes.map((n) => [n.name, n]));
  if (byName.has(SHARED_NODE)) throw new Error(`refusing to manage the shared node ${SHARED_NODE}`);
  const down = new Set<string>();
  const began = Date.now();
  const log = (line: string): void => opts.log?.(`[rabbit-cluster +${((Date.now() - began) / 1000).toFixed(1)}s] ${line}`);
  takeLock(root);
  const watchdog = startWatchdog(root);

  const nodeOf = (name: string): NodeSetup => {
    const n = byName.get(name);
    if (!n) throw new Error(`${name} is not a node of this cluster (${[...byName.keys()].join(', ')})`);
    return n;
  };
  const ctl = (name: string, args: string[], timeoutMs?: number) => {
    const n = nodeOf(name);
    return runTool('rabbitmqctl', ['-n', n.name, ...args], n.env, n.dir, timeoutMs);
  };
  const queuesTool = (name: string, args: string[], timeoutMs?: number) => {
    const n = nodeOf(name);
    return runTool('rabbitmq-queues', ['-n', n.name, ...args], n.env, n.dir, timeoutMs);
  };
  const upNodes = () => nodes.filter((n) => !down.has(n.name));

  const startServer = async (n: NodeSetup): Promise<void> => {
    await runTool('rabbitmq-server', ['-detached'], n.env, n.dir);
    // await_startup needs the node registered with epmd and its pid file: give it a moment.
    await within(`${n.name} to register with epmd`, 30_000, async () => (await epmdNames()).includes(shortName(n)));
    await ctl(n.name, ['-q', 'await_startup', '--timeout', '55'], COMMAND_TIMEOUT_MS);
    log(`${n.name} started`);
  };

  let tornDown: Promise<void> | undefined;
  const teardown = (): Promise<void> => {
    tornDown ??= (async () => {
      // A graceful stop first (quick, and it lets the nodes write their logs); then halt whatever is left.
      await Promise.all(
        nodes.map(async (n) => {
          const pid = readPid(n.pidFile);
          if (!pid || !alive(pid)) return;
          await ctl(n.name, ['-q', 'stop', n.pidFile], 30_000).catch(() => undefined);
        }),
      );
      // Each look kills what it finds: done once a look finds nothing.
      await eventually(() => killHarnessProcesses().length === 0, 900, 300);
      await within('harness nodes to leave epmd', 15_000, async () => {
        const names = await epmdNames().catch((): string[] => []);
        return !nodes.some((n) => names.includes(shortName(n)));
      }).catch((err: Error) => console.error(`rabbit-cluster teardown: ${err.message}`));
      fs.rmSync(root, { recursive: true, force: true });
      releaseLock();
      if (watchdog) killGroup(watchdog);
      log('torn down');
    })().catch((err: Error) => console.error(`rabbit-cluster teardown: ${err.stack ?? err.message}`));
    return tornDown;
  };

  const runningNodes = async (via?: string): Promise<string[]> => {
    const asked = via ?? upNodes()[0]?.name;
    if (!asked) throw new Error('every node of the cluster is stopped');
    const status = JSON.parse(await ctl(asked, ['-q', 'cluster_status', '--formatter', 'json'], 30_000)) as { running_nodes?: string[] };
    return status.running_nodes ?? [];
  };

  let lastLeaderError = '';
  const currentQueueLeader = async (queueName: string, vhost = '/'): Promise<string | undefined> => {
    for (const n of upNodes()) {
      let members: Record<string, unknown>[];
      try {
        const out = await queuesTool(n.name, ['-q', 'quorum_status', '--vhost', vhost, queueName, '--formatter', 'json'], 20_000);
        members = JSON.parse(out) as Record<string, unknown>[];
      } catch (err) {
        lastLeaderError = (err as Error).message;
        continue; // that node may be going down or not be up yet: ask the next
      }
      // Every member answers for itself ("leader", "follower", "candidate", or "noproc" when down).
      // Right after an election a deposed leader may not know yet: the highest term wins.
      const leaders = members
        .filter((m) => m['Raft State'] === 'leader' && !down.has(String(m['Node Name'])))
        .sort((a, b) => Number(b.Term) - Number(a.Term));
      const [top, next] = leaders;
      if (!top || (next && Number(next.Term) === Number(top.Term))) return undefined;
      return String(top['Node Name']);
    }
    return undefined;
  };

  const queueLeader = async (queueName: string, vhost = '/', o: { timeoutMs?: number; not?: string } = {}): Promise<string> => {
    let leader: string | undefined;
    lastLeaderError = '';
    try {
      await within(`a leader for quorum queue ${queueName}${o.not ? ` other than ${o.not}` : ''}`, o.timeoutMs ?? 30_000, async () => {
        leader = await currentQueueLeader(queueName, vhost);
        return leader !== undefined && leader !== o.not;
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}${lastLeaderError ? ` (last error: ${lastLeaderError})` : ''}`);
    }
    return leader as string;
  };

  const stopNode = async (name: string, o: { mode?: StopMode } = {}): Promise<void> => {
    const n = nodeOf(name);
    const mode = o.mode ?? 'stop';
    down.add(n.name);
    if (mode === 'stop_app') {
      await ctl(n.name, ['-q', 'stop_app']);
    } else if (mode === 'kill') {
      // Only a process that carries this node's marker: a pid file can outlive its process.
      const pid = readPid(n.pidFile);
      if (!pid || !harnessProcesses().some((p) => p.pid === pid && p.node === n.name)) throw new Error(`${n.name} is not running (pid file: ${pid ?? 'none'})`);
      killPid(pid);
      await within(`${n.name} (pid ${pid}) to die`, 10_000, async () => !alive(pid));
    } else {
      // With the pid file, `stop` returns only once the VM has exited.
      await ctl(n.name, ['-q', 'stop', n.pidFile]);
    }
    await within(`${n.name}'s AMQP port ${n.amqpPort} to close`, 30_000, async () => !(await portOpen(n.amqpPort)));
    log(`${n.name} down (${mode})`);
  };

  const startNode = async (name: string): Promise<void> => {
    const n = nodeOf(name);
    const pid = readPid(n.pidFile);
    if (pid && alive(pid) && (await epmdNames()).includes(shortName(n))) {
      // Stopped with stop_app: the VM is still up.
      await ctl(n.name, ['-q', 'start_app']);
      await ctl(n.name, ['-q', 'await_startup', '--timeout', '55']);
    } else {
      await startServer(n);
    }
    down.delete(n.name);
    const peers = upNodes().filter((p) => p.name !== n.name);
    await within(`${n.name} to be running in its peers' cluster_status`, 60_000, async () => {
      for (const p of peers.length ? peers : [n]) {
        const running = await runningNodes(p.name).catch((): string[] => []);
        if (!running.includes(n.name)) return false;
      }
      return portOpen(n.amqpPort);
    });
    log(`${n.name} back`);
  };

  // --- a clean slate: leftovers of an earlier (crashed) run go first ---------------------------
  const cleanSlate = async (): Promise<void> => {
    killHarnessProcesses();
    await within('leftover harness nodes to exit', 15_000, async () => harnessProcesses().length === 0);
    const registered = await epmdNames();
    for (const n of nodes) {
      if (!registered.includes(shortName(n))) continue;
      // A node of that name that this harness did not start (someone's manual experiment): stop it properly.
      await ctl(n.name, ['-q', 'stop'], 30_000).catch(() => undefined);
      await within(`leftover node ${n.name} to leave epmd`, 30_000, async () => !(await epmdNames()).includes(shortName(n)));
    }
    fs.rmSync(root, { recursive: true, force: true });
    for (const n of nodes) {
      for (const port of [n.amqpPort, n.distPort]) {
        if (!(await portFree(port))) throw new Error(`port ${port} (for ${n.name}) is taken by something else on 127.0.0.1: pick another basePort`);
      }
    }
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    for (const n of nodes) writeNodeFiles(n);
    const { uid, gid } = rabbitmqIds();
    chownTree(root, uid, gid);
    log('clean slate');
  };

  try {
    await cleanSlate();
    await Promise.all(nodes.map(startServer));
    const [first, ...others] = nodes;
    if (!first) throw new Error('no nodes');
    for (const n of others) {
      await ctl(n.name, ['-q', 'stop_app']);
      await ctl(n.name, ['-q', 'join_cluster', first.name]);
      await ctl(n.name, ['-q', 'start_app']);
      log(`${n.name} joined ${first.name}`);
    }
    await within(`all ${count} nodes running in ${first.name}'s cluster_status`, 60_000, async () => {
      const running = await runningNodes(first.name).catch((): string[] => []);
      return nodes.every((n) => running.includes(n.name));
    });
    log(`cluster of ${count} running`);
  } catch (err) {
    const logs = nodes
      .map((n) => {
        try {
          const lines = fs.readFileSync(path.join(n.dir, 'log', `${n.name}.log`), 'utf8').trimEnd().split('\n');
          return `--- ${n.name} log (tail) ---\n${lines.slice(-15).join('\n')}`;
        } catch {
          return `--- ${n.name}: no log ---`;
        }
      })
      .join('\n');
    await teardown();
    (err as Error).message += `\n${logs}`;
    throw err;
  }

  return {
    dir: root,
    nodes: nodes.map(({ name, amqpPort, distPort, url }) => ({ name, amqpPort, distPort, url })),
    urls: nodes.map((n) => n.url).join(','),
    node: (name) => {
      const { amqpPort, distPort, url } = nodeOf(name);
      return { name, amqpPort, distPort, url };
    },
    stopNode,
    startNode,
    runningNodes,
    queueLeader,
    currentQueueLeader,
    ctl,
    teardown,
  };
}
