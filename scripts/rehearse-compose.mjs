#!/usr/bin/env node
// `npm run test:compose`: rehearses `docker compose up --build` on a machine without a Docker engine.
//
// Everything comes from docker-compose.yml and the Dockerfile themselves, so a change to either is
// what gets tested:
//   1. `.env.example` with its placeholders replaced by test values (fresh keys, random passwords,
//      a unique BUS_PREFIX and DB_NAME_PREFIX) is handed to `docker-compose config`, which computes
//      each service's environment, healthcheck, ports and dependencies exactly as compose would.
//   2. Each app service's image is rehearsed in a scratch folder per build stage under os.tmpdir():
//      FROM, WORKDIR, ARG, ENV, COPY (from the build context minus .dockerignore, or from another
//      stage) and RUN (executed for real: `npm ci`, `tsc -b`, …) in the order the Dockerfile gives.
//      The final stage's folder holds exactly what its COPY lines put there, nothing else.
//   3. RabbitMQ is a private node of this machine's rabbitmq-server, started through the compose
//      service's own entrypoint.sh and configuration (its users come from rabbitmq/definitions.sh
//      and no guest user exists); MySQL and Redis are this machine's servers. The compose service
//      names in the services' URLs are pointed at them, nothing else in the environment changes.
//   4. The app services start in depends_on order from their WORKDIR with the image's CMD/ENTRYPOINT
//      and ENV plus the compose environment; each healthcheck command runs against the process and
//      must pass before its dependants start; published ports must answer.
//   5. The Postman collection runs against the gateway (scripts/test-postman.mjs), with the admin
//      account .env.example leads to.
//   6. When kubectl is installed, the same images start again with the environment of the rendered
//      `kubectl kustomize k8s/` Deployments, and their startup, readiness and liveness probes must pass.
// A failure names the service (or the Deployment) and shows what it printed. Everything started
// (processes, the private broker, databases, Redis keys, scratch folders) is removed whatever happens.
//
// What only a real engine can show (image pulls, the MySQL 8.4 and RabbitMQ 4 images, container
// networking, read-only root filesystems, the non-root user): see README.md, "Rehearse compose".
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeys } from './keys.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const YAML = require('yaml');

const TOTAL_TIMEOUT_MS = Number(process.env.REHEARSE_TIMEOUT_MS ?? 10 * 60_000);
const KEEP = process.env.REHEARSE_KEEP === '1'; // keep the scratch folders to look inside them
const started = Date.now();
const runId = randomBytes(4).toString('hex');
const BUS_PREFIX = `rehearse_${runId}`;
const DB_NAME_PREFIX = `rehearse_${runId}_`;
const LOCAL = { mysql: { host: '127.0.0.1', port: 3306 }, redis: { host: '127.0.0.1', port: 6379 } };
/** The image's Node: `node` in a CMD or healthcheck is this one (Node 24 from node_modules under npm run). */
const NODE = process.execPath;
const IMAGE_PATH = `${dirname(NODE)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** A failure of one service (or step): the message starts with its name. */
class Failure extends Error {
  constructor(who, message) {
    super(`${who}: ${message}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const log = (message) => console.log(`[rehearse ${elapsed()}] ${message}`);

/** Run a command to completion; throws a Failure naming `who` when it fails. */
function run(who, command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000, ...options });
  if (result.error) throw new Failure(who, `${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-30).join('\n');
    throw new Failure(who, `\`${[command, ...args].join(' ')}\` exited with ${result.status ?? result.signal}:\n${output}`);
  }
  return result.stdout;
}

// ---- teardown: LIFO, each step bounded, run whatever happens ------------------------------------
const cleanups = [];
const onCleanup = (label, fn) => cleanups.push({ label, fn });
let tornDown = false;
async function teardown() {
  if (tornDown) return;
  tornDown = true;
  for (const { label, fn } of cleanups.reverse()) {
    try {
      await Promise.race([fn(), sleep(45_000).then(() => { throw new Error('did not finish within 45 s'); })]);
    } catch (err) {
      console.error(`[rehearse] cleanup "${label}" failed: ${err instanceof Error ? err.message : err}`);
    }
  }
}

// ---- preflight ---------------------------------------------------------------------------------
function preflight() {
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status !== 0) {
    if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
      log('docker-compose is missing; installing Debian\'s package (apt-get install -y docker-compose)…');
      // A fresh machine's package lists may be empty or old: read them first.
      run('preflight', 'apt-get', ['update', '-q'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 5 * 60_000 });
      run('preflight', 'apt-get', ['install', '-y', '-q', 'docker-compose'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 5 * 60_000 });
    } else {
      throw new Failure('preflight', 'docker-compose is not installed (apt-get install docker-compose, or pip install docker-compose); it computes each service\'s environment');
    }
  }
  for (const tool of ['rabbitmq-server', 'rabbitmqctl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Failure('preflight', `${tool} is not installed: the rehearsal runs a private RabbitMQ node`);
  }
  // Node resolves packages in every parent folder: one there would hide a file an image lacks.
  for (let dir = tmpdir(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) throw new Failure('preflight', `${join(dir, 'node_modules')} exists; it would leak packages into the rehearsed images`);
    if (dirname(dir) === dir) break;
  }
}

// ---- 1. the environment compose computes ---------------------------------------------------------
const password = () => randomBytes(12).toString('hex');

/** .env.example with its placeholders replaced by test values. */
function testEnvFile() {
  const keys = generateKeys();
  const lines = readFileSync(join(root, '.env.example'), 'utf8').split('\n').map((line) => {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) return line;
    const [, name, value] = m;
    if (name === 'BUS_PREFIX') return `${name}=${BUS_PREFIX}`;
    if (name === 'DB_NAME_PREFIX') return `${name}=${DB_NAME_PREFIX}`;
    if (value === 'run-npm-run-keys') {
      if (!(name in keys)) throw new Failure('.env.example', `${name}=run-npm-run-keys, but npm run keys prints no ${name}`);
      return `${name}=${keys[name]}`;
    }
    if (value.includes('change-me')) return `${name}=${password()}`;
    return line;
  });
  return lines.join('\n');
}

function renderCompose(envFile) {
  // A clean environment: compose lets the shell's variables win over the env file.
  const out = run('docker-compose.yml', 'docker-compose', ['--env-file', envFile, '-f', join(root, 'docker-compose.yml'), 'config'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' },
  });
  return YAML.parse(out);
}

const asArray = (x) => (x == null ? [] : Array.isArray(x) ? x : [x]);
function environmentOf(service) {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
}
function dependsOn(service) {
  const d = service.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((n) => [n, { condition: 'service_started' }])) : d;
}
function publishedPorts(service) {
  return asArray(service.ports).map((p) => {
    if (typeof p === 'object') return { published: Number(p.published ?? p.target), target: Number(p.target) };
    const parts = String(p).split('/')[0].split(':');
    return { target: Number(parts.at(-1)), published: Number(parts.length > 1 ? parts.at(-2) : parts.at(-1)) };
  });
}
function durationMs(value, fallback) {
  if (value == null) return fallback;
  let ms = 0;
  for (const [, n, unit] of String(value).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
  return ms;
}

// ---- 2. images ---------------------------------------------------------------------------------
/** Dockerfile instructions: { line, instruction, args } with continuations joined and comments dropped. */
function parseDockerfile(text) {
  const out = [];
  let current = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (current === null && (line === '' || line.startsWith('#'))) return;
    if (current !== null && line.startsWith('#')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1) : line;
    if (current === null) current = { line: i + 1, text: body };
    else current.text += ` ${body}`;
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/s.exec(current.text.trim());
      out.push({ line: current.line, instruction: m[1].toUpperCase(), args: m[2].trim() });
      current = null;
    }
  });
  return out;
}

/** ${VAR}, $VAR, ${VAR:-default}, ${VAR:+value} as the Dockerfile expands them. */
function expand(text, vars) {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced, op, word, bare) => {
    const value = vars[braced ?? bare];
    if (op === '-') return value ? value : word;
    if (op === '+') return value ? word : '';
    return value ?? '';
  });
}
/** Words of a shell-form argument list, with quotes removed; or a JSON array. */
function words(args) {
  if (args.startsWith('[')) return JSON.parse(args);
  return [...args.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}
function parseAssignments(args) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [k, ...rest] = args.split(/\s+/);
    return [[k, rest.join(' ')]];
  }
  return words(args).map((w) => [w.split('=')[0], w.split('=').slice(1).join('=')]);
}

/** .dockerignore as a predicate on context-relative paths: the last matching pattern wins; a folder's match covers its contents. */
function dockerignore(context) {
  const file = join(context, '.dockerignore');
  const rules = existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
        const negate = l.startsWith('!');
        const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
        const source = pattern.split('/').map((part) => (part === '**' ? '(?:.*)' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))).join('/');
        return { negate, regex: new RegExp(`^${source.replace(/\(\?:\.\*\)\//g, '(?:.*/)?')}$`) };
      })
    : [];
  return (rel) => {
    const parts = rel.split('/');
    let ignored = false;
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      for (const rule of rules) if (rule.regex.test(prefix)) ignored = !rule.negate;
      if (ignored) return true;
    }
    return false;
  };
}

/**
 * Copies a file or a folder's contents as COPY does, symlinks verbatim (npm links workspaces
 * relatively), replacing (never writing through) files already there: with `link`, the layer cache
 * shares files by hard links, and a write through one would change a cached layer.
 */
function copyInto(source, dest, { filter, link = false } = {}) {
  if (filter) {
    const replace = (src, target) => {
      if (!filter(src)) return false;
      try { if (!statSync(target).isDirectory()) unlinkSync(target); } catch { /* not there yet */ }
      return true;
    };
    cpSync(source, dest, { recursive: true, force: true, preserveTimestamps: true, verbatimSymlinks: true, filter: replace });
    return;
  }
  const isDir = statSync(source).isDirectory();
  if (isDir) mkdirSync(dest, { recursive: true });
  const result = spawnSync('cp', [link ? '-al' : '-a', '--remove-destination', isDir ? `${source}/.` : source, dest], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cp -a ${source} ${dest}: ${result.stderr}`);
}

/**
 * Builds every stage of the Dockerfile for one service in scratch folders (one per stage, the
 * folder standing for the stage's `/`). RUN results are cached by the chain of instructions before
 * them, as Docker's layer cache does: the build stage's `npm ci` (before ARG SERVICE) runs once.
 */
async function buildImage(name, build, scratch, layerCache) {
  const context = build.context;
  const dockerfile = resolve(context, build.dockerfile ?? 'Dockerfile');
  const buildArgs = Object.fromEntries(Object.entries(build.args ?? {}).map(([k, v]) => [k, String(v)]));
  const ignored = dockerignore(context);
  const instructions = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  const where = (ins) => `image build, ${relative(root, dockerfile)} line ${ins.line} (${ins.instruction} ${ins.args.slice(0, 100)})`;

  const globalArgs = {};
  const stages = new Map(); // name or index → stage
  let stage = null;
  let index = 0;
  for (const ins of instructions) {
    const fail = (message) => { throw new Failure(name, `${where(ins)}: ${message}`); };
    if (ins.instruction === 'FROM') {
      const w = words(ins.args).filter((x) => !x.startsWith('--'));
      const image = expand(w[0], globalArgs);
      const alias = w[1]?.toLowerCase() === 'as' ? w[2] : undefined;
      const dir = join(scratch, `${name}-stage-${index}${alias ? `-${alias}` : ''}`);
      const parent = stages.get(image);
      if (parent) {
        copyInto(parent.dir, dir);
        stage = { dir, workdir: parent.workdir, env: { ...parent.env }, args: {}, cmd: parent.cmd, entrypoint: parent.entrypoint, key: parent.key, image: parent.image };
      } else {
        mkdirSync(dir, { recursive: true });
        // The base image's Node is the one this rehearsal runs: they must be the same major version.
        const m = /^node:(\d+)/.exec(image);
        if (m && Number(m[1]) !== Number(process.versions.node.split('.')[0])) {
          fail(`the image runs Node ${m[1]} but the rehearsal runs Node ${process.versions.node}; run it through npm run (Node from node_modules) or align the versions`);
        }
        stage = { dir, workdir: '/', env: {}, args: {}, cmd: undefined, entrypoint: undefined, key: `FROM ${image}`, image };
      }
      stages.set(String(index++), stage);
      if (alias) stages.set(alias, stage);
      continue;
    }
    if (!stage) {
      if (ins.instruction === 'ARG') {
        for (const [k, v] of parseAssignments(ins.args)) globalArgs[k] = buildArgs[k] ?? v;
        continue;
      }
      fail('an instruction before the first FROM');
    }
    const vars = { ...stage.args, ...stage.env };
    const inStage = (path) => join(stage.dir, posix.resolve(stage.workdir, path));
    stage.key += `\n${ins.instruction} ${ins.args}`;
    switch (ins.instruction) {
      case 'ARG':
        for (const [k, v] of parseAssignments(ins.args)) {
          stage.args[k] = buildArgs[k] ?? (v === '' && k in globalArgs ? globalArgs[k] : expand(v, vars));
          stage.key += ` ${k}=${stage.args[k]}`;
        }
        break;
      case 'ENV':
        for (const [k, v] of parseAssignments(ins.args)) stage.env[k] = expand(v, vars);
        break;
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, expand(ins.args, vars));
        mkdirSync(join(stage.dir, stage.workdir), { recursive: true });
        break;
      case 'COPY': {
        const w = words(ins.args);
        const flags = Object.fromEntries(w.filter((x) => x.startsWith('--')).map((x) => [x.slice(2).split('=')[0], x.split('=').slice(1).join('=')]));
        const paths = w.filter((x) => !x.startsWith('--')).map((x) => expand(x, vars));
        const destArg = paths.pop();
        const from = flags.from ? stages.get(expand(flags.from, vars)) : undefined;
        if (flags.from && !from) fail(`no stage named ${flags.from}`);
        const dest = inStage(destArg);
        const toFolder = destArg.endsWith('/') || paths.length > 1;
        for (const p of paths) {
          const source = from ? join(from.dir, posix.resolve(from.workdir, p)) : join(context, posix.normalize(p));
          const rel = from ? null : relative(context, source).split('\\').join('/');
          if (rel !== null && (rel.startsWith('..') || isAbsolute(rel))) fail(`${p} is outside the build context`);
          if (!existsSync(source) || (rel !== null && rel !== '' && ignored(rel))) {
            fail(`${p} does not exist ${from ? `in stage ${flags.from}` : 'in the build context (or .dockerignore excludes it)'}`);
          }
          const isDir = statSync(source).isDirectory();
          const target = isDir ? dest : toFolder ? join(dest, posix.basename(p)) : dest;
          mkdirSync(isDir ? target : dirname(target), { recursive: true });
          copyInto(source, target, from ? {} : { filter: (file) => { const r = relative(context, file).split('\\').join('/'); return r === '' || !ignored(r); } });
          stage.key += ` ${from ? from.key : contentStamp(source)}`;
        }
        break;
      }
      case 'RUN': {
        const argv = ins.args.startsWith('[') ? JSON.parse(ins.args) : ['/bin/sh', '-c', ins.args];
        const cacheKey = stage.key;
        const cached = layerCache.get(cacheKey);
        if (cached) {
          rmSync(stage.dir, { recursive: true, force: true });
          copyInto(cached, stage.dir, { link: true });
          break;
        }
        const cwd = join(stage.dir, stage.workdir);
        mkdirSync(join(stage.dir, 'root'), { recursive: true });
        const env = {
          PATH: IMAGE_PATH,
          HOME: join(stage.dir, 'root'), // so npm's cache (and `npm cache clean`) stays inside the stage, as in the image
          // This machine's npm settings, proxies and certificate authorities reach the registry, as the builder's would.
          ...pick(process.env, ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']),
          ...(existsSync(join(process.env.HOME ?? '/root', '.npmrc')) ? { npm_config_userconfig: join(process.env.HOME ?? '/root', '.npmrc') } : {}),
          ...stage.args,
          ...stage.env,
        };
        log(`${name}: RUN ${ins.args.slice(0, 90)}`);
        const result = await runAsync(argv[0], argv.slice(1), { cwd, env, timeoutMs: 5 * 60_000 });
        if (result.code !== 0) fail(`exited with ${result.code}:\n${tailLines(result.output, 30)}`);
        const snapshot = join(scratch, 'layers', String(layerCache.size));
        copyInto(stage.dir, snapshot, { link: true });
        layerCache.set(cacheKey, snapshot);
        break;
      }
      case 'CMD':
        stage.cmd = ins.args.startsWith('[') ? JSON.parse(ins.args) : ['/bin/sh', '-c', ins.args];
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = ins.args.startsWith('[') ? JSON.parse(ins.args) : ['/bin/sh', '-c', ins.args];
        break;
      case 'USER': // USER-independent: the rehearsal runs as whoever runs it (see README)
      case 'LABEL':
      case 'EXPOSE':
      case 'STOPSIGNAL':
        break;
      default:
        fail(`${ins.instruction} is not rehearsed yet: teach scripts/rehearse-compose.mjs what it does`);
    }
  }
  const targetStage = build.target ? stages.get(build.target) : stage;
  // Only the final stage is the image; the other stages' folders go.
  for (const s of new Set(stages.values())) if (s !== targetStage) rmSync(s.dir, { recursive: true, force: true });
  return { dir: targetStage.dir, workdir: targetStage.workdir, env: targetStage.env, entrypoint: targetStage.entrypoint, argv: [...(targetStage.entrypoint ?? []), ...(targetStage.cmd ?? [])] };
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const pick = (obj, keys) => Object.fromEntries(keys.filter((k) => obj[k] !== undefined).map((k) => [k, obj[k]]));

/** Size and newest mtime of a file tree: what a COPY's cache key depends on. */
function contentStamp(path) {
  let size = 0;
  let mtime = 0;
  const walk = (p) => {
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else { size += s.size; mtime = Math.max(mtime, s.mtimeMs); }
  };
  walk(path);
  return `${size}@${mtime}`;
}

function runAsync(command, args, { cwd, env, timeoutMs }) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const take = (d) => { output = (output + d).slice(-200_000); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => { output += `\n(killed after ${timeoutMs / 1000} s)`; try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); resolvePromise({ code: -1, output: `${output}${err.message}` }); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolvePromise({ code: code ?? signal, output }); });
  });
}
const tailLines = (text, n) => text.trimEnd().split('\n').slice(-n).join('\n');

// ---- 3. servers --------------------------------------------------------------------------------
function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolvePromise(port)); });
  });
}
/** Whether something accepts connections on 127.0.0.1:port. */
function answers(port, host = '127.0.0.1') {
  return new Promise((resolvePromise) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); resolvePromise(true); });
    socket.once('timeout', () => { socket.destroy(); resolvePromise(false); });
    socket.once('error', () => resolvePromise(false));
  });
}
/** Whether this machine could bind the port on every address, as a container's process would. */
function bindable(port) {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolvePromise(true)));
  });
}

/**
 * A private RabbitMQ node started the way the compose service starts: its entrypoint script (with
 * the compose environment) writes the definitions, the configuration files it mounts are loaded.
 * Container paths in the script and the configuration are mapped to the mounted folders.
 */
async function startBroker(service) {
  const dir = mkdtempSync(join(tmpdir(), `market-rehearse-rabbitmq-${runId}-`));
  onCleanup('remove the broker folder', async () => { if (!KEEP) rmSync(dir, { recursive: true, force: true }); });
  const port = await freePort();
  const distPort = await freePort();
  const node = `market-rehearse-${runId}@localhost`;
  for (const sub of ['mnesia', 'log', 'conf.d', 'tmpfs']) mkdirSync(join(dir, sub), { recursive: true });

  // Container path → folder here: bind mounts from compose, tmpfs mounts in the scratch folder.
  const mounts = [];
  for (const v of asArray(service.volumes)) {
    const spec = typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v;
    if (spec.source && (spec.source.startsWith('/') || spec.source.startsWith('.'))) mounts.push([spec.target, resolve(root, spec.source)]);
  }
  for (const t of asArray(service.tmpfs)) mounts.push([String(t).split(':')[0], join(dir, 'tmpfs')]);
  mounts.sort((a, b) => b[0].length - a[0].length);
  const mapPaths = (text) => mounts.reduce((acc, [target, source]) => acc.split(target).join(source), text);

  // The entry point: its checks and its definitions, then the image's own entry point, which here is a no-op.
  const entrypoint = asArray(service.entrypoint).map(String);
  const script = entrypoint.find((a) => a.endsWith('.sh'));
  if (!script) throw new Failure('rabbitmq', 'the rehearsal expects an entrypoint script (bash …/entrypoint.sh) that writes the definitions');
  const hostScript = join(dir, 'entrypoint.sh');
  writeFileSync(hostScript, mapPaths(readFileSync(mapPaths(script), 'utf8')));
  const fakeBin = join(dir, 'bin');
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, 'docker-entrypoint.sh'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(fakeBin, 'docker-entrypoint.sh'), 0o755);
  run('rabbitmq', 'bash', [hostScript, ...asArray(service.command).map(String)], { env: { PATH: `${fakeBin}:${process.env.PATH}`, ...environmentOf(service) } });

  // Its configuration: the conf files compose mounts, with paths mapped, plus this node's listener.
  const confs = mounts.filter(([target]) => /^\/etc\/rabbitmq\/(conf\.d\/.+\.conf|rabbitmq\.conf)$/.test(target));
  const config = [`listeners.tcp.1 = 127.0.0.1:${port}`, ...confs.map(([, source]) => mapPaths(readFileSync(source, 'utf8')))].join('\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), `${config}\n`);
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  run('rabbitmq', 'chown', ['-R', 'rabbitmq:rabbitmq', dir]);

  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONFIG_FILES: join(dir, 'conf.d'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
  };
  onCleanup('stop the private RabbitMQ node', async () => {
    spawnSync('rabbitmqctl', ['-n', node, 'stop'], { env, timeout: 30_000 });
    if (existsSync(join(dir, 'rabbit.pid'))) {
      const pid = Number(readFileSync(join(dir, 'rabbit.pid'), 'utf8').trim());
      for (let i = 0; i < 20 && alive(pid); i++) await sleep(500);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 10 && alive(pid); i++) await sleep(500);
    }
  });
  log(`rabbitmq: starting a private node ${node} on 127.0.0.1:${port}`);
  run('rabbitmq', 'rabbitmq-server', ['-detached'], { env, timeout: 30_000 });
  // -detached returns at once, and await_startup gives up while the node is not registered yet.
  const deadline = Date.now() + 90_000;
  let awaited;
  do {
    await sleep(1000);
    awaited = spawnSync('rabbitmqctl', ['-n', node, 'await_startup', '--timeout', '60'], { env, encoding: 'utf8', timeout: 70_000 });
  } while (awaited.status !== 0 && Date.now() < deadline && !/BOOT FAILED/.test(readLogs(join(dir, 'log'))));
  if (awaited.status !== 0) {
    throw new Failure('rabbitmq', `the node did not start:\n${awaited.stdout}${awaited.stderr}\n${tailLines(readLogs(join(dir, 'log')), 25)}`);
  }
  // The compose healthcheck, against this node.
  const test = asArray(service.healthcheck?.test).map(String);
  if (test[0] === 'CMD' && test[1] === 'rabbitmq-diagnostics') run('rabbitmq', test[1], ['-n', node, ...test.slice(2)], { env, timeout: 30_000 });
  const users = run('rabbitmq', 'rabbitmqctl', ['-n', node, '-q', 'list_users'], { env }).split('\n').map((l) => l.split('\t')[0]).filter(Boolean).filter((u) => u !== 'user');
  if (users.includes('guest')) throw new Failure('rabbitmq', 'the broker has a guest user: the definitions were not imported at its first boot');
  log(`rabbitmq: ready with users ${users.join(', ')}`);
  return { port, node, users };
}

function readLogs(folder) {
  try {
    return readdirSync(folder).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(folder, f), 'utf8')).join('\n');
  } catch {
    return '';
  }
}

// ---- 4. services -------------------------------------------------------------------------------
/** compose (and k8s) host names → this machine's servers. */
function pointAtLocal(env, hosts) {
  const out = {};
  for (const [key, value] of Object.entries(env)) {
    out[key] = value.replace(/^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^:/?#]+)(?::(\d+))?/i, (match, scheme, userinfo, host, port) => {
      const target = hosts[host.toLowerCase()];
      if (!target) return match;
      const auth = target.auth !== undefined ? target.auth : userinfo;
      const newPort = target.port ?? port;
      return `${scheme}://${auth ? `${auth}@` : ''}${target.host}${newPort ? `:${newPort}` : ''}`;
    });
  }
  return out;
}

/**
 * Each service reaches each compose host name through a port of its own, proxied to this machine's
 * server: a setting compose forgets or misspells makes the service fall back to its localhost
 * default, which works here (the same servers) but not in a container. Such a service never uses
 * its proxy, and the rehearsal says so.
 */
const routes = []; // { service, key, name, port, connections }
async function routeFor(service, key, name, target) {
  const route = { service, key, name, connections: 0 };
  const sockets = new Set();
  const server = createServer((socket) => {
    route.connections++;
    const upstream = connect(target.port, target.host);
    for (const s of [socket, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); }
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  route.port = server.address().port;
  onCleanup(`close the route of ${service} to ${name}`, async () => { for (const s of sockets) s.destroy(); server.close(); });
  routes.push(route);
  return route.port;
}
function unusedRoutes(service, which) {
  for (const r of routes.filter((x) => x.service === service && which(x) && x.connections === 0)) {
    throw new Failure(r.service, `${r.key} names ${r.name}, but the service never connected there: it reached its server some other way, such as a setting compose forgets or misspells falling back to a localhost default (no such server inside a container)`);
  }
}
async function routeToLocal(service, env, hosts) {
  const out = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^:/?#]+)(?::(\d+))?(.*)$/is.exec(value);
    const target = m && hosts[m[3].toLowerCase()];
    if (!target) { out[key] = value; continue; }
    const [, scheme, userinfo, host, port, rest] = m;
    const auth = target.auth !== undefined ? target.auth : userinfo;
    const local = await routeFor(service, key, host, { host: target.host, port: target.port ?? Number(port) });
    out[key] = `${scheme}://${auth ? `${auth}@` : ''}127.0.0.1:${local}${rest}`;
  }
  return out;
}

const processes = new Map(); // label → { child, output, exited }
function startProcess(label, image, env) {
  const [command, ...args] = image.argv;
  if (!command) throw new Failure(label, 'the image has no CMD or ENTRYPOINT');
  const cwd = join(image.dir, image.workdir);
  const child = spawn(command === 'node' ? NODE : command, args, { cwd, env: { PATH: IMAGE_PATH, HOME: '/tmp', ...image.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const proc = { child, output: '', exited: null, done: false };
  const take = (d) => { proc.output = (proc.output + d).slice(-200_000); };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  proc.exited = new Promise((r) => child.on('close', (code, signal) => { proc.done = true; r(code ?? signal); }));
  child.on('error', (err) => { take(`\n${err.message}`); });
  processes.set(label, proc);
  return proc;
}
async function stopProcess(label, graceMs) {
  const proc = processes.get(label);
  if (!proc || proc.done) return true;
  try { process.kill(-proc.child.pid, 'SIGTERM'); } catch { /* gone */ }
  const stopped = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    try { process.kill(-proc.child.pid, 'SIGKILL'); } catch { /* gone */ }
    await Promise.race([proc.exited, sleep(5000)]);
  }
  return stopped;
}
onCleanup('stop every rehearsed process', async () => {
  await Promise.all([...processes.keys()].map((label) => stopProcess(label, 10_000)));
});

function runCheck(argv, { cwd, env, timeoutMs }) {
  const [command, ...args] = argv;
  return runAsync(command === 'node' ? NODE : command, args, { cwd, env: { PATH: IMAGE_PATH, HOME: '/tmp', ...env }, timeoutMs });
}

/** Polls a check until it passes within the compose healthcheck's (or the probe's) budget. */
async function waitHealthy(label, check, { budgetMs, what }) {
  const proc = processes.get(label);
  const deadline = Date.now() + budgetMs;
  let last = '';
  for (;;) {
    if (proc.done) throw new Failure(label, `exited (${await proc.exited}) before ${what} passed. Its output:\n${tailLines(proc.output, 30)}`);
    const result = await check();
    if (result.ok) return;
    last = result.detail;
    if (Date.now() > deadline) {
      throw new Failure(label, `${what} did not pass within ${budgetMs / 1000} s (last attempt: ${last || 'failed'}). Its output:\n${tailLines(proc.output, 30)}`);
    }
    await sleep(1000);
  }
}

function healthcheckOf(name, service, image, env) {
  const hc = service.healthcheck;
  if (!hc || hc.disable) return null;
  const test = asArray(hc.test).map(String);
  let argv;
  if (test[0] === 'CMD') argv = test.slice(1);
  else if (test[0] === 'CMD-SHELL') argv = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else if (test[0] === 'NONE') return null;
  else argv = ['/bin/sh', '-c', test.join(' ')];
  const timeoutMs = durationMs(hc.timeout, 30_000);
  const budgetMs = durationMs(hc.start_period, 0) + durationMs(hc.interval, 30_000) * (hc.retries ?? 3);
  const check = async () => {
    const r = await runCheck(argv, { cwd: join(image.dir, image.workdir), env: { ...image.env, ...env }, timeoutMs });
    return { ok: r.code === 0, detail: `exit ${r.code}${r.output.trim() ? `: ${tailLines(r.output, 3)}` : ''}` };
  };
  return { check, budgetMs, what: `its healthcheck (${argv.join(' ').slice(0, 160)})` };
}

// ---- 6. k8s --------------------------------------------------------------------------------------
async function rehearseKubernetes(images, secretsFor, hosts) {
  if (spawnSync('sh', ['-c', 'command -v kubectl']).status !== 0) {
    log('k8s: kubectl is not installed here, so the manifests\' environment and probes are not rehearsed');
    return;
  }
  const rendered = YAML.parseAllDocuments(run('k8s', 'kubectl', ['kustomize', join(root, 'k8s')])).map((d) => d.toJSON()).filter(Boolean);
  const configMaps = new Map(rendered.filter((r) => r.kind === 'ConfigMap').map((r) => [r.metadata.name, r.data ?? {}]));
  const secretExample = YAML.parse(readFileSync(join(root, 'k8s/secret.example.yaml'), 'utf8'));
  const secrets = secretsFor(secretExample);
  const deployments = rendered.filter((r) => r.kind === 'Deployment');
  const started = [];
  for (const d of deployments) {
    for (const c of d.spec.template.spec.containers) {
      const label = `k8s ${d.metadata.name}/${c.name}`;
      const image = images.get(String(c.image).split(':')[0]);
      if (!image) throw new Failure(label, `image ${c.image} is not built by docker-compose.yml`);
      const env = {};
      const fromMap = (name, optional) => {
        if (!configMaps.has(name) && !optional) throw new Failure(label, `ConfigMap ${name} is not in the kustomize output`);
        return configMaps.get(name) ?? {};
      };
      for (const src of c.envFrom ?? []) {
        if (src.configMapRef) Object.assign(env, fromMap(src.configMapRef.name, src.configMapRef.optional));
        if (src.secretRef) throw new Failure(label, 'envFrom secretRef is not rehearsed');
      }
      for (const e of c.env ?? []) {
        if ('value' in e) env[e.name] = String(e.value);
        else if (e.valueFrom?.configMapKeyRef) {
          const { name, key, optional } = e.valueFrom.configMapKeyRef;
          const value = fromMap(name, optional)[key];
          if (value === undefined && !optional) throw new Failure(label, `${e.name}: ConfigMap ${name} has no key ${key}`);
          if (value !== undefined) env[e.name] = String(value);
        } else if (e.valueFrom?.secretKeyRef) {
          const { name, key, optional } = e.valueFrom.secretKeyRef;
          if (name !== secretExample.metadata.name) throw new Failure(label, `${e.name}: Secret ${name} is not the one secret.example.yaml describes`);
          if (!(key in secrets) && !optional) throw new Failure(label, `${e.name}: key ${key} is not in k8s/secret.example.yaml`);
          if (key in secrets) env[e.name] = secrets[key];
        } else throw new Failure(label, `${e.name}: this kind of valueFrom is not rehearsed`);
      }
      // Shared servers: this run's prefixes (the broker's permissions embed BUS_PREFIX).
      // Fresh databases: a first start creates and migrates them within the startup probe's budget.
      env.BUS_PREFIX = BUS_PREFIX;
      if ('DB_NAME_PREFIX' in env) env.DB_NAME_PREFIX = `${DB_NAME_PREFIX}k8s_`;
      const argv = c.command ? [...c.command, ...(c.args ?? [])] : c.args ? [...(image.entrypoint ?? []), ...c.args] : image.argv;
      const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name ?? String(p.containerPort), p.containerPort]));
      for (const port of Object.values(ports)) {
        if (!(await bindable(port))) throw new Failure(label, `containerPort ${port} is already in use on this machine`);
      }
      startProcess(label, { ...image, argv }, pointAtLocal(env, hosts));
      started.push({ label, c, ports, image, env: pointAtLocal(env, hosts) });
    }
  }
  const probeCheck = (s, probe) => {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.httpGet) {
      const port = typeof probe.httpGet.port === 'string' && !/^\d+$/.test(probe.httpGet.port) ? s.ports[probe.httpGet.port] : Number(probe.httpGet.port);
      if (!port) throw new Failure(s.label, `probe port ${probe.httpGet.port} is not a containerPort`);
      const url = `http://127.0.0.1:${port}${probe.httpGet.path ?? '/'}`;
      return async () => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
          return { ok: res.status >= 200 && res.status < 400, detail: `GET ${url} → ${res.status}` };
        } catch (err) {
          return { ok: false, detail: `GET ${url}: ${err.cause?.code ?? err.message}` };
        }
      };
    }
    if (probe.exec) {
      return async () => {
        const r = await runCheck(probe.exec.command, { cwd: join(s.image.dir, s.image.workdir), env: { ...s.image.env, ...s.env }, timeoutMs });
        return { ok: r.code === 0, detail: `exit ${r.code}` };
      };
    }
    if (probe.tcpSocket) return async () => ({ ok: await answers(Number(s.ports[probe.tcpSocket.port] ?? probe.tcpSocket.port)), detail: 'no connection' });
    throw new Failure(s.label, 'a probe of a kind the rehearsal does not know');
  };
  for (const s of started) {
    const probes = [['startupProbe', s.c.startupProbe], ['readinessProbe', s.c.readinessProbe], ['livenessProbe', s.c.livenessProbe]].filter(([, p]) => p);
    for (const [kind, probe] of probes) {
      const budgetMs = ((probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3)) * 1000;
      await waitHealthy(s.label, probeCheck(s, probe), { budgetMs: Math.min(budgetMs, 120_000), what: kind });
    }
    for (const [portName, port] of Object.entries(s.ports)) {
      if (!(await answers(port))) throw new Failure(s.label, `nothing listens on containerPort ${port} (${portName})`);
    }
    log(`${s.label}: ${probes.map(([k]) => k).join(', ')} pass; ports ${Object.values(s.ports).join(', ')} answer`);
  }
  await Promise.all(started.map((s) => stopProcess(s.label, 10_000)));
}

// ---- main ----------------------------------------------------------------------------------------
async function main() {
  preflight();
  const scratch = mkdtempSync(join(tmpdir(), `market-rehearse-${runId}-`));
  onCleanup('remove the scratch folders', async () => { if (!KEEP) rmSync(scratch, { recursive: true, force: true }); else log(`kept ${scratch}`); });
  log(`scratch folder ${scratch}; BUS_PREFIX ${BUS_PREFIX}, DB_NAME_PREFIX ${DB_NAME_PREFIX}`);

  // 1. compose's own view of every service.
  const envFile = join(scratch, '.env');
  const envText = testEnvFile();
  writeFileSync(envFile, envText, { mode: 0o600 });
  const envValues = Object.fromEntries(envText.split('\n').map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]));
  const compose = renderCompose(envFile);
  const services = compose.services ?? {};
  const apps = Object.keys(services).filter((n) => services[n].build);
  const infra = Object.keys(services).filter((n) => !services[n].build);
  for (const n of infra) if (!['mysql', 'redis', 'rabbitmq'].includes(n)) throw new Failure(n, 'the rehearsal knows only mysql, redis and rabbitmq as servers; teach it this one');

  // Local servers first: there is no point building images when they are missing.
  const mysql = await require('mysql2/promise').createConnection({ host: LOCAL.mysql.host, port: LOCAL.mysql.port, user: 'root' }).catch((err) => {
    throw new Failure('mysql', `this machine's MySQL/MariaDB (root@127.0.0.1:3306) does not answer (${err.message}); npm run servers starts it`);
  });
  onCleanup('drop the rehearsal databases', async () => {
    const [rows] = await mysql.query('SHOW DATABASES');
    for (const db of rows.map((r) => Object.values(r)[0]).filter((d) => d.startsWith(DB_NAME_PREFIX))) await mysql.query(`DROP DATABASE \`${db}\``);
    await mysql.end();
  });
  const Redis = require('ioredis');
  const redis = new Redis({ host: LOCAL.redis.host, port: LOCAL.redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect().catch((err) => { throw new Failure('redis', `this machine's Redis (127.0.0.1:6379) does not answer (${err.message}); npm run servers starts it`); });
  onCleanup('delete the rehearsal Redis keys', async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${BUS_PREFIX}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  // A service that misses its RABBITMQ_URL falls back to this machine's shared broker (guest on
  // localhost): whatever it declared there under this run's prefix goes too.
  onCleanup('remove what a misrouted service declared on the shared broker', async () => {
    const list = (what) => (spawnSync('rabbitmqctl', ['-q', what, 'name'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '').split('\n').map((l) => l.trim()).filter((n) => n.startsWith(`${BUS_PREFIX}.`));
    const queues = list('list_queues');
    const exchanges = list('list_exchanges');
    if (!queues.length && !exchanges.length) return;
    const connection = await require('amqplib').connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    for (const e of exchanges) await channel.deleteExchange(e);
    await connection.close();
    log(`removed ${queues.length} queue(s) and ${exchanges.length} exchange(s) a misrouted service declared on the shared broker`);
  });

  // Services other containers reach by name, or that publish ports, must listen beyond loopback.
  const reachedByName = new Set();
  for (const n of apps) for (const v of Object.values(environmentOf(services[n]))) for (const other of apps) if (other !== n && new RegExp(`//([^@/]*@)?${other}[:/]|//([^@/]*@)?${other}$`).test(v)) reachedByName.add(other);
  for (const n of apps) {
    const host = environmentOf(services[n]).HOST;
    if ((reachedByName.has(n) || publishedPorts(services[n]).length) && (!host || /^(127\.|localhost$|::1$)/.test(host))) {
      throw new Failure(n, `HOST is ${host ?? 'not set (127.0.0.1)'}, so nothing outside its container reaches it`);
    }
  }

  // 2. images, one after the other (the builds share the machine's two cores with everyone).
  const layerCache = new Map();
  const images = new Map(); // compose service → image
  for (const n of apps) {
    log(`${n}: building the image in a scratch folder`);
    images.set(n, await buildImage(n, { ...services[n].build, context: services[n].build.context ?? root }, scratch, layerCache));
  }
  rmSync(join(scratch, 'layers'), { recursive: true, force: true });

  // 3. servers: a private broker with compose's users; this machine's MySQL and Redis.
  const broker = await startBroker(services.rabbitmq);
  const hosts = {
    mysql: { host: LOCAL.mysql.host, port: LOCAL.mysql.port, auth: 'root' }, // the local server's root has no password
    redis: { host: LOCAL.redis.host, port: LOCAL.redis.port },
    rabbitmq: { host: '127.0.0.1', port: broker.port },
    ...Object.fromEntries(apps.map((n) => [n, { host: '127.0.0.1' }])),
  };

  // 4. start in depends_on order; a service starts when what it depends on is healthy.
  const healthy = new Set(infra);
  const pending = new Set(apps);
  const environments = new Map();
  while (pending.size) {
    const next = [...pending].find((n) => Object.keys(dependsOn(services[n])).every((d) => healthy.has(d)));
    if (!next) throw new Failure([...pending].join(', '), 'depends_on forms a cycle or names an unknown service');
    pending.delete(next);
    const service = services[next];
    for (const [dep, { condition }] of Object.entries(dependsOn(service))) {
      if (condition === 'service_healthy' && !services[dep].healthcheck) throw new Failure(next, `depends on ${dep} being healthy, but ${dep} has no healthcheck`);
    }
    const env = await routeToLocal(next, environmentOf(service), hosts);
    environments.set(next, env);
    const ports = [...new Set([...Object.entries(env).filter(([k, v]) => /(^|_)PORT$/.test(k) && /^\d+$/.test(v)).map(([, v]) => Number(v)), ...publishedPorts(service).map((p) => p.target)])];
    for (const port of ports) if (!(await bindable(port))) throw new Failure(next, `port ${port} is already in use on this machine; free it (the rehearsal uses the ports compose sets)`);
    log(`${next}: starting \`${images.get(next).argv.join(' ')}\` in ${images.get(next).workdir}`);
    startProcess(next, images.get(next), env);
    const hc = healthcheckOf(next, service, images.get(next), env);
    if (hc) await waitHealthy(next, hc.check, hc);
    else await sleep(2000);
    for (const { published, target } of publishedPorts(service)) {
      if (!(await answers(target))) throw new Failure(next, `publishes ${published}:${target}, but nothing listens on ${target} in its container`);
      if (published !== target) {
        // The engine's port mapping, so that the published port is what the Postman run uses.
        if (!(await bindable(published))) throw new Failure(next, `published port ${published} is already in use on this machine`);
        const proxy = createServer((socket) => { const upstream = connect(target, '127.0.0.1'); socket.pipe(upstream).pipe(socket); upstream.on('error', () => socket.destroy()); socket.on('error', () => upstream.destroy()); });
        await new Promise((r) => proxy.listen(published, '127.0.0.1', r));
        onCleanup(`close the ${published} mapping`, async () => proxy.close());
      }
    }
    // Servers are connected to by the time a service is healthy; other services maybe only on a request.
    unusedRoutes(next, (r) => !apps.includes(r.name));
    healthy.add(next);
    log(`${next}: ${hc ? 'healthy' : 'started (no healthcheck)'}`);
  }

  // 5. the Postman collection against the gateway's published port.
  const gateway = apps.find((n) => publishedPorts(services[n]).length);
  if (!gateway) throw new Failure('docker-compose.yml', 'no service publishes a port, so nothing is reachable from outside');
  const baseUrl = `http://localhost:${publishedPorts(services[gateway])[0].published}`;
  const usersEnv = environments.get('users-service') ?? {};
  if (!usersEnv.ADMIN_EMAIL || !usersEnv.ADMIN_PASSWORD) {
    throw new Failure('users-service', 'ADMIN_EMAIL and ADMIN_PASSWORD from .env.example lead to no admin account, so the collection\'s coupon steps cannot pass');
  }
  log(`postman: running the collection against ${gateway} at ${baseUrl}`);
  const postman = await runAsyncInherit(NODE, [join(root, 'scripts/test-postman.mjs')], {
    ...process.env,
    POSTMAN_BASE_URL: baseUrl,
    POSTMAN_ADMIN_EMAIL: usersEnv.ADMIN_EMAIL,
    POSTMAN_ADMIN_PASSWORD: usersEnv.ADMIN_PASSWORD,
  }, 6 * 60_000);
  if (postman !== 0) {
    const problems = [...processes].map(([label, p]) => `--- ${label}${p.done ? ' (exited)' : ''}\n${tailLines(p.output, 8)}`).join('\n');
    throw new Failure('postman', `the collection failed against the rehearsed ${gateway} (exit ${postman}). The services' last lines:\n${problems}`);
  }
  for (const n of apps) unusedRoutes(n, () => true);
  log(`compose: every service reached ${[...new Set(routes.map((r) => r.name))].join(', ')} through the addresses compose gave it`);

  // Stop as compose does: dependants first, SIGTERM, the service's stop_grace_period.
  for (const n of [...apps].reverse()) {
    const grace = durationMs(services[n].stop_grace_period, 10_000);
    if (!(await stopProcess(n, grace))) throw new Failure(n, `did not stop within its stop_grace_period (${grace / 1000} s) of SIGTERM`);
  }
  log('compose: every service stopped cleanly on SIGTERM');

  // 6. k8s: the same images with the manifests' environment and probes.
  const rabbitPasswords = {};
  for (const n of apps) {
    const url = new URL(environmentOf(services[n]).RABBITMQ_URL ?? 'amqp://x');
    if (url.username) rabbitPasswords[decodeURIComponent(url.username)] = decodeURIComponent(url.password);
  }
  const keys = Object.fromEntries(Object.entries(envValues).filter(([k]) => /KEY|KEYS$/.test(k)));
  const secretsFor = (example) => Object.fromEntries(Object.entries(example.stringData ?? {}).map(([key, value]) => {
    const v = String(value);
    if (v === 'run-npm-run-keys') return [key, keys[key] ?? ''];
    const url = /^(amqps?|mysql|redis):\/\//.exec(v) ? new URL(v) : null;
    if (url?.protocol.startsWith('amqp')) {
      const user = decodeURIComponent(url.username);
      if (!(user in rabbitPasswords)) throw new Failure('k8s secret.example.yaml', `${key} logs in as ${user}, a RabbitMQ user rabbitmq/definitions.sh does not create`);
      // TLS (amqps) is the managed broker's business; the rehearsal broker speaks plain AMQP.
      return [key, `amqp://${url.username}:${rabbitPasswords[user]}@127.0.0.1:${broker.port}`];
    }
    if (url?.protocol === 'mysql:') return [key, `mysql://root@${LOCAL.mysql.host}:${LOCAL.mysql.port}`];
    if (url?.protocol === 'redis:') return [key, `redis://${LOCAL.redis.host}:${LOCAL.redis.port}`];
    if (key === 'STRIPE_SECRET_KEY') return [key, `sk_test_rehearsal${runId}`];
    if (key === 'STRIPE_WEBHOOK_SECRET') return [key, `whsec_rehearsal${runId}`];
    return [key, v.includes('change-me') ? password() : v];
  }));
  const imagesByName = new Map(apps.map((n) => [String(services[n].image ?? n).split(':')[0], images.get(n)]));
  await rehearseKubernetes(imagesByName, secretsFor, hosts);
}

function runAsyncInherit(command, args, env, timeoutMs) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit', detached: true });
    const timer = setTimeout(() => { console.error(`[rehearse] ${args[0]} did not finish within ${timeoutMs / 1000} s`); try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolvePromise(code ?? signal); });
  });
}

let exitCode = 1;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n[rehearse] ${signal}: tearing down`);
    void teardown().finally(() => process.exit(1));
  });
}
const overall = setTimeout(() => {
  console.error(`[rehearse] FAILED: the rehearsal took longer than ${TOTAL_TIMEOUT_MS / 1000} s; tearing down`);
  void teardown().finally(() => process.exit(1));
}, TOTAL_TIMEOUT_MS);
try {
  await main();
  exitCode = 0;
} catch (err) {
  console.error(`\n[rehearse ${elapsed()}] FAILED: ${err instanceof Failure ? err.message : err instanceof Error ? err.stack : err}\n`);
} finally {
  await teardown();
  clearTimeout(overall);
}
log(exitCode === 0 ? 'the compose stack rehearsal passed' : 'the compose stack rehearsal failed');
process.exit(exitCode);
