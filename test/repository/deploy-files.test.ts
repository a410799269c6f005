/**
 * Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yml, .env.example
 * and k8s/. Needs no Docker engine and no cluster; `docker compose config` runs only where a compose
 * client is installed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { type EventSubscriber, type Knex, Revocations } from '@market/common';
import { listingsConfigSchema } from '../../listings-service/src/config';
import type { ListingsDeps } from '../../listings-service/src/domain/deps';
import { subscribeListings } from '../../listings-service/src/entry-points/events';
import { ordersConfigSchema } from '../../orders-service/src/config';
import type { OrdersDeps } from '../../orders-service/src/domain/deps';
import { subscribeOrders } from '../../orders-service/src/entry-points/events';
import { paymentsConfigSchema } from '../../payments-service/src/config';
import { usersConfigSchema } from '../../users-service/src/config';
import { gatewayConfigSchema } from '../../api-gateway/src/config';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// ---- what each service reads: the keys of its own config schema, so this check cannot drift ----

/** Read by node itself, not by the service's config: the gateway's heap cap (see README, Benchmarks). */
const NODE_RUNTIME = ['NODE_OPTIONS'];
const SERVICE_ENV: Record<string, string[]> = {
  'users-service': Object.keys(usersConfigSchema.shape),
  'listings-service': Object.keys(listingsConfigSchema.shape),
  'orders-service': Object.keys(ordersConfigSchema.shape),
  'payments-service': Object.keys(paymentsConfigSchema.shape),
  'api-gateway': [...Object.keys(gatewayConfigSchema.shape), ...NODE_RUNTIME],
};
const SERVICES = Object.keys(SERVICE_ENV);
/** The variable holding the port of each service's /healthz and /readyz, and its default. */
const HEALTH_PORT: Record<string, [string, number]> = {
  'api-gateway': ['PORT', 8080],
  'users-service': ['USERS_PORT', 3001],
  'listings-service': ['METRICS_PORT', 9101],
  'orders-service': ['METRICS_PORT', 9102],
  'payments-service': ['METRICS_PORT', 9103],
};
/** Who may connect to each Deployment's pods, and on which port (k8s/network-policy.yaml). */
const CALLERS: Record<string, { port: number; from: string }[]> = {
  'api-gateway': [
    { port: 8080, from: 'namespace ingress-nginx' },
    { port: 9100, from: 'namespace monitoring' },
  ],
  'users-service': [
    { port: 3001, from: 'pod api-gateway' },
    { port: 3001, from: 'namespace monitoring' },
  ],
  'listings-service': [{ port: 9101, from: 'namespace monitoring' }],
  'orders-service': [{ port: 9102, from: 'namespace monitoring' }],
  'payments-service': [{ port: 9103, from: 'namespace monitoring' }],
};
/** The compose services each one must wait for, healthy. */
const NEEDS: Record<string, string[]> = {
  'users-service': ['mysql', 'rabbitmq'],
  'listings-service': ['mysql', 'rabbitmq'],
  'orders-service': ['mysql', 'rabbitmq'],
  'payments-service': ['mysql', 'rabbitmq'],
  'api-gateway': ['rabbitmq', 'redis', 'users-service'],
};
const STATEFUL = ['mysql', 'redis', 'rabbitmq'];
/** The name each process goes by in SERVICE_PUBLIC_KEYS, its RabbitMQ user, and the prefix of its own variables. */
const PROCESS: Record<string, { name: string; rabbitUser: string; prefix: string }> = {
  'api-gateway': { name: 'api-gateway', rabbitUser: 'api-gateway', prefix: 'API_GATEWAY' },
  'users-service': { name: 'users', rabbitUser: 'users-service', prefix: 'USERS' },
  'listings-service': { name: 'listings', rabbitUser: 'listings-service', prefix: 'LISTINGS' },
  'orders-service': { name: 'orders', rabbitUser: 'orders-service', prefix: 'ORDERS' },
  'payments-service': { name: 'payments', rabbitUser: 'payments-service', prefix: 'PAYMENTS' },
};
const own = (service: string) => PROCESS[service] as { name: string; rabbitUser: string; prefix: string };
/** `npm run keys` prints these; each process's own private key is `<PREFIX>_SERVICE_KEY`. */
const SERVICE_KEYS = Object.values(PROCESS).map((p) => `${p.prefix}_SERVICE_KEY`);
const KEYS = ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS', 'SERVICE_PUBLIC_KEYS', ...SERVICE_KEYS];
const RABBITMQ_PASSWORDS = Object.values(PROCESS).map((p) => `${p.prefix}_RABBITMQ_PASSWORD`);
/** Secrets compose must refuse to start without (`${NAME:?message}`). */
const REQUIRED_SECRETS = ['MYSQL_ROOT_PASSWORD', ...RABBITMQ_PASSWORDS, ...KEYS];
/** The placeholder .env.example holds for every key: production refuses it. */
const KEY_PLACEHOLDER = 'run-npm-run-keys';
/** Variables docker compose itself reads from .env (not interpolated in the file). */
const COMPOSE_OWN_VARIABLES = ['COMPOSE_PROJECT_NAME'];

// ---- helpers ----

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const dict = (v: unknown): Dict => (isDict(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** The object at a path of keys, `{}` where the path breaks off. */
const at = (v: unknown, ...keys: string[]): Dict => keys.reduce<Dict>((d, key) => dict(d[key]), dict(v));

/** Compose variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (all === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = vars[name];
    const unset = value === undefined || (op?.startsWith(':') === true && value === '');
    if (!unset) return value;
    if (op === ':-' || op === '-') return arg ?? '';
    if (op === ':?' || op === '?') throw new Error(`${name} is required: ${arg}`);
    return '';
  });
}

/** Names of the variables a text interpolates, with the operator each occurrence uses. */
function interpolations(text: string): { name: string; op: string }[] {
  const found: { name: string; op: string }[] = [];
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    found.push({ name: (m[1] ?? m[3]) as string, op: m[2] ?? '' });
  }
  return found;
}

/** `NAME=value` lines of an env file; `# NAME=value` lines separately (documented, not set). */
function parseEnvFile(text: string): { active: Map<string, string>; commented: Set<string>; lines: string[] } {
  const active = new Map<string, string>();
  const commented = new Set<string>();
  const lines = text.split('\n');
  for (const line of lines) {
    const set = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (set) active.set(set[1] as string, set[2] as string);
    const doc = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (doc) commented.add(doc[1] as string);
  }
  return { active, commented, lines };
}

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): { instructions: Instruction[]; stages: { name?: string; image: string }[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const instructions: Instruction[] = [];
  const stages: { name?: string; image: string }[] = [];
  for (const line of logical) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? args, ...(from?.[2] ? { name: from[2] } : {}) });
    }
    instructions.push({ keyword, args, stage: stages.length - 1 });
  }
  return { instructions, stages };
}

/** Splits `COPY [--flag=x ...] src... dest` into flags, sources and destination. */
function copyParts(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [flag, value = ''] = (words.shift() as string).slice(2).split('=');
    flags[flag as string] = value;
  }
  return { flags, sources: words.slice(0, -1), dest: words[words.length - 1] ?? '' };
}

/** .dockerignore patterns as regular expressions over context-relative paths (negations dropped). */
function dockerignorePatterns(text: string): RegExp[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
    .map((p) => {
      const body = p
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((seg) => (seg === '**' ? '(?:.*/)?' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '/'))
        .join('')
        .replace(/\/$/, '');
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}

function composeCli(): string[] | undefined {
  for (const cli of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(cli[0] as string, [...cli.slice(1), 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (probe.status === 0) return cli;
  }
  return undefined;
}

// ---- the files ----

const compose = dict(parse(read('docker-compose.yml'), { merge: true }));
const composeServices = dict(compose.services);
const composeService = (name: string): Dict => dict(composeServices[name]);
const composeEnv = (name: string): Dict => dict(composeService(name).environment);
/** docker-compose.yml without its comment lines, for finding the variables it interpolates. */
const composeText = read('docker-compose.yml')
  .split('\n')
  .filter((line) => !/^\s*#/.test(line))
  .join('\n');
const envExample = parseEnvFile(read('.env.example'));
const exampleVars = Object.fromEntries(envExample.active);
const dockerfile = parseDockerfile(read('Dockerfile'));
const finalStage = dockerfile.stages.length - 1;
const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;

const k8sFiles = readdirSync(path.join(ROOT, 'k8s')).filter((f) => /\.ya?ml$/.test(f));
const k8sDocs = k8sFiles.flatMap((file) =>
  parseAllDocuments(read(`k8s/${file}`))
    .map((doc) => ({ file, doc, obj: dict(doc.toJS()) }))
    .filter(({ obj }) => Object.keys(obj).length > 0),
);
const kustomization = dict(k8sDocs.find((d) => d.file === 'kustomization.yaml')?.obj);
const ofKind = (kind: string) => k8sDocs.filter((d) => d.obj.kind === kind).map((d) => ({ ...d, name: String(dict(d.obj.metadata).name) }));
const configMaps = new Map(ofKind('ConfigMap').map((c) => [c.name, dict(c.obj.data)]));
const exampleSecret = ofKind('Secret').find((s) => s.name === 'market-secrets');

// ---- tests ----

describe('the Dockerfile', () => {
  const from = (i: Instruction) => i.keyword === 'FROM';
  const inFinal = dockerfile.instructions.filter((i) => i.stage === finalStage);

  test('pins every base image to a tag other than latest, on Debian because bcrypt ships glibc binaries', () => {
    const stageNames = new Set(dockerfile.stages.map((s) => s.name?.toLowerCase()));
    const images = dockerfile.stages.map((s) => s.image).filter((image) => !stageNames.has(image.toLowerCase()));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image).toMatch(/^[^:@\s]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
      expect(image).not.toMatch(/:latest$/);
      expect(image).not.toMatch(/alpine/);
    }
  });

  test('installs with npm ci, never npm install, and adds no local files with ADD', () => {
    const runs = dockerfile.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.filter((r) => /\bnpm (install|i|add)\b/.test(r))).toEqual([]);
    expect(dockerfile.instructions.filter((i) => i.keyword === 'ADD')).toEqual([]);
  });

  test('copies every workspace manifest before npm ci, so the lock file matches and the layer is cached', () => {
    const firstNpmCi = dockerfile.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    const copiedBefore = dockerfile.instructions
      .slice(0, firstNpmCi)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => copyParts(i.args).sources);
    for (const file of ['package.json', 'package-lock.json', ...workspaces.map((w) => `${w}/package.json`)]) {
      expect(copiedBefore).toContain(file);
    }
  });

  test('installs only the runtime dependencies of the root, common and the service in the image it ships', () => {
    const prodInstall = dockerfile.instructions.find((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args));
    expect(prodInstall?.args).toMatch(/--include-workspace-root/);
    expect(prodInstall?.args).toMatch(/-w common\b/);
    expect(prodInstall?.args).toMatch(/-w "?\$\{?SERVICE\}?"?/);
    expect(dockerfile.instructions.some((i) => i.keyword === 'RUN' && /npx tsc -b "?\$\{?SERVICE\}?"?/.test(i.args))).toBe(true);
  });

  test('declares ARG SERVICE in every stage that uses it, since build arguments are scoped to a stage', () => {
    for (let stage = 0; stage < dockerfile.stages.length; stage++) {
      const body = dockerfile.instructions.filter((i) => i.stage === stage && !from(i));
      const firstUse = body.findIndex((i) => i.keyword !== 'ARG' && /\$\{?SERVICE\b/.test(i.args));
      if (firstUse === -1) continue;
      const declared = body.findIndex((i) => i.keyword === 'ARG' && /^SERVICE\b/.test(i.args));
      expect({ stage, declared: declared !== -1 && declared < firstUse }).toEqual({ stage, declared: true });
    }
  });

  test('runs the final stage as a non-root user, in production mode, from /app/$SERVICE', () => {
    const users = inFinal.filter((i) => i.keyword === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users[users.length - 1]);
    expect(inFinal.filter((i) => i.keyword === 'ENV').map((i) => i.args)).toContainEqual(expect.stringMatching(/^NODE_ENV[= ]"?production"?$/));
    const workdirs = inFinal.filter((i) => i.keyword === 'WORKDIR').map((i) => i.args);
    expect(workdirs[workdirs.length - 1]).toMatch(/^\/app\/\$\{?SERVICE\}?$/);
  });

  test('starts node in exec form (a JSON array), so SIGTERM reaches the process', () => {
    const cmds = inFinal.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
    expect(cmds.map((c) => c.keyword)).toEqual(['CMD']);
    const cmd = JSON.parse((cmds[0] as Instruction).args) as unknown;
    expect(cmd).toEqual(['node', 'dist/main.js']);
    const userAt = inFinal.findIndex((i) => i.keyword === 'USER');
    expect(userAt).toBeLessThan(inFinal.indexOf(cmds[0] as Instruction));
  });

  test('copies only paths that exist in the repository and that .dockerignore lets through', () => {
    const ignored = dockerignorePatterns(read('.dockerignore'));
    const stageNames = new Set(dockerfile.stages.map((s, i) => s.name ?? String(i)));
    for (const copy of dockerfile.instructions.filter((i) => i.keyword === 'COPY')) {
      const { flags, sources } = copyParts(copy.args);
      if (flags.from !== undefined) {
        expect(stageNames).toContain(flags.from);
        continue;
      }
      for (const service of SERVICES) {
        for (const source of sources.map((s) => s.replace(/\$\{?SERVICE\}?/g, service).replace(/\/$/, ''))) {
          expect({ source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
          expect({ source, ignoredBy: ignored.filter((re) => re.test(source)).map(String) }).toEqual({ source, ignoredBy: [] });
        }
      }
    }
  });

  test('ships the built common and service code from the build stage, not from the build context', () => {
    const fromBuild = inFinal.filter((i) => i.keyword === 'COPY' && copyParts(i.args).flags.from !== undefined).flatMap((i) => copyParts(i.args).sources);
    expect(fromBuild).toEqual(expect.arrayContaining(['/app/common/dist', '/app/${SERVICE}/dist']));
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  test('keeps node_modules, build output, git history and local .env files out of the build context', () => {
    const has = (name: string) => patterns.some((p) => p.replace(/^\*\*\//, '').replace(/\/$/, '') === name);
    for (const name of ['node_modules', 'dist', '.git', '.env', '*.tsbuildinfo', 'coverage', 'bench/results']) {
      expect({ name, ignored: has(name) }).toEqual({ name, ignored: true });
    }
  });
});

describe('docker-compose.yml', () => {
  const cli = composeCli();
  const composeTest = cli ? test : test.skip;
  composeTest(
    cli
      ? 'is accepted by `docker compose config` with the .env.example values'
      : 'is accepted by `docker compose config` (skipped: neither `docker compose` nor `docker-compose` is installed here)',
    () => {
      const [bin, ...pre] = cli as string[];
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const name of [...envExample.active.keys(), 'COMPOSE_FILE', 'COMPOSE_PROFILES']) delete env[name];
      const run = spawnSync(bin as string, [...pre, '--env-file', '.env.example', 'config', '-q'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    },
  );

  test('runs MySQL 8.4, Redis 7 and RabbitMQ 4 with the management plugin', () => {
    expect(composeService('mysql').image).toBe('mysql:8.4');
    expect(composeService('redis').image).toBe('redis:7-alpine');
    expect(composeService('rabbitmq').image).toBe('rabbitmq:4-management');
  });

  test('keeps MySQL and RabbitMQ data in named volumes', () => {
    const volumes = Object.keys(dict(compose.volumes));
    for (const server of ['mysql', 'rabbitmq']) {
      const mounts = list(composeService(server).volumes).map((v) => String(v).split(':')[0]);
      expect(mounts.some((m) => volumes.includes(m as string))).toBe(true);
    }
  });

  test('builds all five services from the shared Dockerfile with their SERVICE build argument', () => {
    expect(Object.keys(composeServices).sort()).toEqual([...SERVICES, ...STATEFUL].sort());
    for (const service of SERVICES) {
      const build = dict(composeService(service).build);
      expect({ service, context: build.context, args: build.args }).toEqual({ service, context: '.', args: { SERVICE: service } });
      expect(composeService(service).image).toBe(`market/${service}:latest`);
      expect(composeService(service).restart).toBe('unless-stopped');
    }
  });

  test('gives every container a healthcheck', () => {
    for (const [name, service] of Object.entries(composeServices)) {
      expect({ name, test: list(at(service, 'healthcheck').test).length > 0 }).toEqual({ name, test: true });
    }
  });

  // A compose healthcheck restarts nothing; it gates depends_on and `up --wait`: readiness, not liveness.
  test('checks each service’s readiness with node itself on /readyz at the port the service is told to listen on', () => {
    for (const service of SERVICES) {
      const [portVar] = HEALTH_PORT[service] as [string, number];
      const check = list(dict(composeService(service).healthcheck).test).map(String);
      expect(check.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      const script = interpolate(check[3] as string, exampleVars);
      expect(() => new Function(script)).not.toThrow();
      const port = interpolate(String(composeEnv(service)[portVar]), exampleVars);
      expect(script).toContain(`fetch('http://127.0.0.1:${port}/readyz')`);
    }
  });

  test('starts each service only once the servers it needs are healthy', () => {
    for (const service of SERVICES) {
      const dependsOn = dict(composeService(service).depends_on);
      expect({ service, needs: Object.keys(dependsOn).sort() }).toEqual({ service, needs: [...(NEEDS[service] as string[])].sort() });
      for (const [server, how] of Object.entries(dependsOn)) {
        expect({ service, server, condition: dict(how).condition }).toEqual({ service, server, condition: 'service_healthy' });
      }
    }
  });

  test('publishes only the gateway’s public port: its ops port, the services and the servers stay internal', () => {
    const published = Object.entries(composeServices)
      .filter(([, s]) => list(dict(s).ports).length > 0 || dict(s).network_mode === 'host')
      .map(([name]) => name);
    expect(published).toEqual(['api-gateway']);
    const mappings = list(composeService('api-gateway').ports).map((p) => interpolate(String(p), exampleVars));
    expect(mappings).toEqual(['8080:8080']);
    const gatewayEnv = composeEnv('api-gateway');
    expect(interpolate(String(gatewayEnv.METRICS_PORT), exampleVars)).not.toBe('8080');
  });

  test('passes each service only variables that service reads', () => {
    for (const service of SERVICES) {
      const names = Object.keys(composeEnv(service));
      expect({ service, unknown: names.filter((n) => !(SERVICE_ENV[service] as string[]).includes(n)) }).toEqual({ service, unknown: [] });
    }
  });

  test('runs the services in production mode against the compose servers', () => {
    for (const service of SERVICES) {
      const env = composeEnv(service);
      const value = (name: string) => interpolate(String(env[name]), exampleVars);
      expect(value('NODE_ENV')).toBe('production');
      // Inside the container the listeners must answer on the compose network, not on 127.0.0.1.
      expect(value('HOST')).toBe('0.0.0.0');
      expect(value('RABBITMQ_URL')).toMatch(/^amqp:\/\/[^:]+:[^@]+@rabbitmq:5672$/);
      if (SERVICE_ENV[service]?.includes('MYSQL_URL')) expect(value('MYSQL_URL')).toMatch(/^mysql:\/\/root:[^@]+@mysql:3306$/);
      for (const name of Object.keys(env)) expect(() => value(name)).not.toThrow();
    }
    const gateway = composeEnv('api-gateway');
    expect(interpolate(String(gateway.REDIS_URL), exampleVars)).toBe('redis://redis:6379');
    expect(interpolate(String(gateway.USERS_SERVICE_URL), exampleVars)).toBe('http://users-service:3001');
  });

  test('refuses to start without the secrets instead of falling back to a default', () => {
    const uses = interpolations(composeText);
    for (const secret of REQUIRED_SECRETS) {
      const ops = uses.filter((u) => u.name === secret).map((u) => u.op);
      expect({ secret, ops: [...new Set(ops)] }).toEqual({ secret, ops: [':?'] });
      expect(() => interpolate(`\${${secret}:?missing}`, {})).toThrow(/required/);
    }
  });

  test('has no guest: no container logs in to RabbitMQ as a default or shared user', () => {
    expect(composeText).not.toMatch(/guest/i);
    const rabbitmqEnv = Object.keys(composeEnv('rabbitmq'));
    expect(rabbitmqEnv.filter((name) => name.startsWith('RABBITMQ_DEFAULT_'))).toEqual([]);
  });

  test('logs each service in to RabbitMQ as its own user, with its own password', () => {
    const users = new Set<string>();
    for (const service of SERVICES) {
      const raw = String(composeEnv(service).RABBITMQ_URL);
      const url = new URL(interpolate(raw, exampleVars));
      expect({ service, user: url.username }).toEqual({ service, user: own(service).rabbitUser });
      expect({ service, password: interpolations(raw).map((u) => u.name) }).toEqual({ service, password: [`${own(service).prefix}_RABBITMQ_PASSWORD`] });
      users.add(url.username);
    }
    expect(users.size).toBe(SERVICES.length);
  });

  test('gives each service its own SERVICE key alone, JWT_PRIVATE_KEY to users-service alone, and the public keys to all', () => {
    for (const service of SERVICES) {
      const env = composeEnv(service);
      const fed = Object.values(env).flatMap((v) => interpolations(String(v)).map((u) => u.name));
      expect({ service, serviceKeys: fed.filter((n) => SERVICE_KEYS.includes(n)) }).toEqual({ service, serviceKeys: [`${own(service).prefix}_SERVICE_KEY`] });
      expect({ service, privateKey: interpolations(String(env.SERVICE_PRIVATE_KEY)).map((u) => u.name) }).toEqual({ service, privateKey: [`${own(service).prefix}_SERVICE_KEY`] });
      expect({ service, signsTokens: fed.includes('JWT_PRIVATE_KEY') || 'JWT_PRIVATE_KEY' in env }).toEqual({ service, signsTokens: service === 'users-service' });
      expect({ service, publicKeys: [env.JWT_PUBLIC_KEYS, env.SERVICE_PUBLIC_KEYS].map((v) => interpolations(String(v)).map((u) => u.name)) }).toEqual({
        service,
        publicKeys: [['JWT_PUBLIC_KEYS'], ['SERVICE_PUBLIC_KEYS']],
      });
    }
    for (const server of STATEFUL) {
      const fed = Object.values(composeEnv(server)).flatMap((v) => interpolations(String(v)).map((u) => u.name));
      expect({ server, keys: fed.filter((n) => KEYS.includes(n)) }).toEqual({ server, keys: [] });
    }
  });

  test('sets the payment provider explicitly, since production never falls back to the sandbox', () => {
    const env = composeEnv('payments-service');
    expect(interpolations(String(env.PAYMENTS_PROVIDER))).toEqual([{ name: 'PAYMENTS_PROVIDER', op: ':?' }]);
    expect(['sandbox', 'stripe']).toContain(interpolate(String(env.PAYMENTS_PROVIDER), exampleVars));
  });

  test('starts the broker through rabbitmq/entrypoint.sh, which imports the users of rabbitmq/definitions.sh', () => {
    const rabbitmq = composeService('rabbitmq');
    expect(rabbitmq.entrypoint).toEqual(['bash', '/etc/rabbitmq/market/entrypoint.sh']);
    expect(rabbitmq.command).toEqual(['rabbitmq-server']);
    const mounts = list(rabbitmq.volumes).map(String);
    expect(mounts).toEqual(expect.arrayContaining(['./rabbitmq:/etc/rabbitmq/market:ro', './rabbitmq/market.conf:/etc/rabbitmq/conf.d/90-market.conf:ro']));
    expect(read('rabbitmq/entrypoint.sh')).toContain('bash /etc/rabbitmq/market/definitions.sh > "$definitions"');
    const definitionsPath = /^definitions\.local\.path = (.+)$/m.exec(read('rabbitmq/market.conf'))?.[1];
    expect(read('rabbitmq/entrypoint.sh')).toContain(`definitions=${definitionsPath}`);
    // In memory: the password hashes never reach the data volume.
    expect(list(rabbitmq.tmpfs).map(String)).toContain(path.dirname(definitionsPath as string));
    const env = dict(rabbitmq.environment);
    for (const variable of [...RABBITMQ_PASSWORDS, 'BUS_PREFIX']) expect(interpolations(String(env[variable])).map((u) => u.name)).toEqual([variable]);
  });
});

describe('rabbitmq/definitions.sh', () => {
  interface Permission {
    user: string;
    vhost: string;
    configure: string;
    write: string;
    read: string;
  }
  interface TopicPermission {
    user: string;
    vhost: string;
    exchange: string;
    write: string;
    read: string;
  }
  interface Definitions {
    users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] }[];
    permissions: Permission[];
    topic_permissions: TopicPermission[];
  }
  const render = (env: Record<string, string>) =>
    spawnSync('bash', [path.join(ROOT, 'rabbitmq/definitions.sh')], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 30_000 });
  const passwords = Object.fromEntries(RABBITMQ_PASSWORDS.map((v) => [v, exampleVars[v] as string]));
  const run = render({ BUS_PREFIX: 'market', ...passwords });
  const definitions = JSON.parse(run.status === 0 ? run.stdout : '{}') as Definitions;
  const permissionOf = (user: string) => definitions.permissions?.find((p) => p.user === user) as Permission;
  const topicOf = (user: string) => definitions.topic_permissions?.find((p) => p.user === user && p.exchange === 'market.events') as TopicPermission;
  // RabbitMQ matches these regular expressions (PCRE) against the full name; these use nothing JavaScript reads differently.
  const allows = (regex: string, name: string) => new RegExp(regex).test(name);

  /**
   * What each process does on the broker (common/src/rpc, common/src/events, orders-service's expiry),
   * with BUS_PREFIX=market: declare = configure, publish = write on the exchange, bind = write on the
   * queue and read on the exchange, consume = read; a queue with a dead-letter exchange needs write on
   * that exchange and read on the queue.
   */
  // Quorum queues (`<name>.quorum`); an RPC server also drains the classic queue of an earlier release.
  const rpcServer = (queue: string) => ({ configure: [`${queue}.quorum`, queue], write: ['amq.default'], read: [`${queue}.quorum`, queue] });
  const deadLetterNames = ['market.dead-letter', 'market.dead-letter.quorum'];
  const deadLetter = { configure: deadLetterNames, write: deadLetterNames, read: deadLetterNames };
  const subscription = (queue: string) => {
    const names = [`${queue}.quorum`, queue];
    return { configure: [...names, 'market.events'], write: names, read: [...names, 'market.events'] };
  };
  const merge = (...parts: { configure?: string[]; write?: string[]; read?: string[] }[]) => ({
    configure: parts.flatMap((p) => p.configure ?? []),
    write: parts.flatMap((p) => p.write ?? []),
    read: parts.flatMap((p) => p.read ?? []),
  });
  const rpcClient = { write: ['amq.default'], read: ['amq.rabbitmq.reply-to'] };
  const outbox = { configure: ['market.events'], write: ['market.events'] };
  const NEEDS: Record<string, ReturnType<typeof merge>> = {
    'api-gateway': merge(rpcClient, deadLetter, subscription('market.gateway.cache-invalidation'), subscription('market.gateway.revocations'), subscription('market.gateway.live-events')),
    'users-service': merge(rpcClient, deadLetter, outbox, rpcServer('market.rpc.users')),
    'listings-service': merge(rpcClient, deadLetter, outbox, rpcServer('market.rpc.listings'), subscription('market.listings.user-deleted'), subscription('market.listings.revocations')),
    'orders-service': merge(
      rpcClient,
      deadLetter,
      outbox,
      rpcServer('market.rpc.orders'),
      subscription('market.orders.revocations'),
      subscription('market.orders.payment-refunded'),
      // The expiry: a wait queue dead-lettered through the default exchange to the queue it consumes.
      {
        configure: ['market.orders.expired.quorum', 'market.orders.expiry-wait.900s.quorum'],
        write: ['amq.default'],
        read: ['market.orders.expired.quorum', 'market.orders.expiry-wait.900s.quorum', 'market.orders.expired'],
      },
    ),
    'payments-service': merge(rpcClient, deadLetter, outbox, rpcServer('market.rpc.payments'), subscription('market.payments.revocations')),
  };
  /** The events each process owns (topic write) and follows (topic read: its binding keys). */
  const EVENTS: Record<string, { publishes: string[]; binds: string[] }> = {
    'api-gateway': { publishes: [], binds: ['listing.*', 'user.deleted', 'user.*'] },
    'users-service': { publishes: ['user.deleted'], binds: [] },
    'listings-service': { publishes: ['listing.created', 'listing.sold'], binds: ['user.deleted', 'user.*'] },
    'orders-service': { publishes: ['order.created', 'order.completed', 'order.refunded'], binds: ['user.*', 'payment.refunded'] },
    'payments-service': { publishes: ['payment.succeeded', 'payment.refunded'], binds: ['user.*'] },
  };
  /**
   * The durable subscriptions the services' own code makes, recorded by calling it with a stand-in
   * subscriber: a queue or binding key added there and missing from NEEDS and EVENTS fails below.
   */
  type Recorded = { queue?: string | undefined; patterns: readonly string[] };
  const subscriptionsOf = (wire: (events: EventSubscriber) => void): Recorded[] => {
    const made: Recorded[] = [];
    wire({ subscribe: (s: Recorded) => made.push(s) } as unknown as EventSubscriber);
    return made;
  };
  const revocations = (events: EventSubscriber, service: string) => new Revocations(undefined as unknown as Knex).subscribe(events, service);
  const SUBSCRIPTIONS: Record<string, Recorded[]> = {
    'listings-service': subscriptionsOf((events) => {
      subscribeListings(events, {} as ListingsDeps);
      revocations(events, 'listings');
    }),
    'orders-service': subscriptionsOf((events) => {
      subscribeOrders(events, {} as OrdersDeps);
      revocations(events, 'orders');
    }),
    'payments-service': subscriptionsOf((events) => revocations(events, 'payments')),
  };
  /** Whether a topic binding key (`*` one word, `#` any number) matches a routing key. */
  const topicMatches = (bindingKey: string, routingKey: string) =>
    new RegExp(`^${bindingKey.split('.').map((w) => (w === '*' ? '[^.]+' : w === '#' ? '.*' : w.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('\\.')}$`).test(routingKey);

  test('renders with the .env.example passwords', () => {
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('makes one user per process and no other: no guest, no administrator', () => {
    expect(definitions.users.map((u) => u.name).sort()).toEqual(SERVICES.map((s) => own(s).rabbitUser).sort());
    for (const user of definitions.users) expect({ user: user.name, tags: user.tags }).toEqual({ user: user.name, tags: [] });
    expect(definitions.permissions.map((p) => p.vhost)).toEqual(SERVICES.map(() => '/'));
  });

  test('stores each password the way RabbitMQ does: salted SHA-256, never in clear', () => {
    for (const service of SERVICES) {
      const user = definitions.users.find((u) => u.name === own(service).rabbitUser);
      const password = passwords[`${own(service).prefix}_RABBITMQ_PASSWORD`] as string;
      expect(user?.hashing_algorithm).toBe('rabbit_password_hashing_sha256');
      const raw = Buffer.from(user?.password_hash ?? '', 'base64');
      const salt = raw.subarray(0, 4);
      expect(raw.subarray(4).equals(createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest())).toBe(true);
    }
    expect(run.stdout).not.toContain('change-me');
  });

  test.each(SERVICES)('lets %s do what its code does on the broker', (service) => {
    const permission = permissionOf(own(service).rabbitUser);
    const needs = NEEDS[service] as ReturnType<typeof merge>;
    for (const kind of ['configure', 'write', 'read'] as const) {
      const refused = needs[kind].filter((name) => !allows(permission[kind], name));
      expect({ kind, refused }).toEqual({ kind, refused: [] });
    }
    const topic = topicOf(own(service).rabbitUser);
    const events = EVENTS[service] as { publishes: string[]; binds: string[] };
    expect(events.publishes.filter((key) => !allows(topic.write, key))).toEqual([]);
    expect(events.binds.filter((key) => !allows(topic.read, key))).toEqual([]);
  });

  test.each(Object.keys(SUBSCRIPTIONS))('lets %s declare, bind and consume every durable subscription its code makes, and lists them above', (service) => {
    const permission = permissionOf(own(service).rabbitUser);
    const topic = topicOf(own(service).rabbitUser);
    const needs = NEEDS[service] as ReturnType<typeof merge>;
    const made = SUBSCRIPTIONS[service] as Recorded[];
    expect(made.length).toBeGreaterThan(0);
    for (const { queue, patterns } of made) {
      expect(queue).toEqual(expect.any(String));
      const names = subscription(`market.${String(queue)}`);
      for (const kind of ['configure', 'write', 'read'] as const) {
        expect({ queue, kind, refused: names[kind].filter((name) => !allows(permission[kind], name)) }).toEqual({ queue, kind, refused: [] });
        expect({ queue, kind, unlisted: names[kind].filter((name) => !needs[kind].includes(name)) }).toEqual({ queue, kind, unlisted: [] });
      }
      expect({ queue, refused: patterns.filter((key) => !allows(topic.read, key)) }).toEqual({ queue, refused: [] });
      // Listed, or covered by a key listed (user.* stands for user.deleted and user.sessions_revoked).
      const binds = (EVENTS[service] as { binds: string[] }).binds;
      expect({ queue, unlisted: patterns.filter((key) => !binds.some((b) => topicMatches(b, key))) }).toEqual({ queue, unlisted: [] });
    }
  });

  test.each(SERVICES)('lets %s bind no event it does not follow, nor a wildcard over them', (service) => {
    const topic = topicOf(own(service).rabbitUser);
    const { binds } = EVENTS[service] as { binds: string[] };
    const published = [...new Set(Object.values(EVENTS).flatMap((e) => e.publishes))];
    // e.g. orders-service follows payment.refunded, not payment.succeeded, payment.* or #.
    const unfollowed = published.filter((key) => !binds.some((b) => topicMatches(b, key)));
    const wildcards = ['#', ...new Set(unfollowed.flatMap((key) => [`${key.split('.')[0] as string}.*`, `${key.split('.')[0] as string}.#`]))];
    expect({ service, allowed: [...unfollowed, ...wildcards].filter((key) => allows(topic.read, key)) }).toEqual({ service, allowed: [] });
  });

  test.each(SERVICES)('refuses %s every other process’s queues and events', (service) => {
    const permission = permissionOf(own(service).rabbitUser);
    const topic = topicOf(own(service).rabbitUser);
    for (const other of SERVICES.filter((s) => s !== service)) {
      const theirs = [...new Set([...(NEEDS[other] as ReturnType<typeof merge>).configure, ...(NEEDS[other] as ReturnType<typeof merge>).read])].filter(
        (name) => !['market.events', ...deadLetterNames, 'amq.rabbitmq.reply-to'].includes(name),
      );
      for (const kind of ['configure', 'write', 'read'] as const) {
        expect({ service, other, kind, allowed: theirs.filter((name) => allows(permission[kind], name)) }).toEqual({ service, other, kind, allowed: [] });
      }
      // It cannot publish another's events, e.g. listings-service an order.completed.
      const forged = (EVENTS[other] as { publishes: string[] }).publishes;
      expect({ service, other, forged: forged.filter((key) => allows(topic.write, key)) }).toEqual({ service, other, forged: [] });
    }
    // Nothing beyond what it uses: not the whole vhost, no exchange of its own making.
    for (const kind of ['configure', 'write', 'read'] as const) {
      expect(allows(permission[kind], 'market.anything')).toBe(false);
      expect(allows(permission[kind], 'amq.topic')).toBe(false);
      // No server-named queues: every queue is a named, durable quorum queue.
      expect(allows(permission[kind], 'amq.gen-JrLbVhQe0x6Gq2Zs3Mw5Tg')).toBe(false);
    }
    // Events nobody owns (a forged payment.* from the gateway, say) are refused to everyone but their owner.
    expect(allows(topic.write, 'admin.promoted')).toBe(false);
  });

  test('names the queues after BUS_PREFIX, with its dots literal', () => {
    const other = render({ BUS_PREFIX: 'staging.market', ...passwords });
    const permission = (JSON.parse(other.stdout) as Definitions).permissions.find((p) => p.user === 'orders-service') as Permission;
    expect(allows(permission.read, 'staging.market.rpc.orders.quorum')).toBe(true);
    expect(allows(permission.read, 'staging.market.rpc.orders')).toBe(true);
    expect(allows(permission.read, 'staging-market.rpc.orders')).toBe(false);
    expect(allows(permission.read, 'market.rpc.orders')).toBe(false);
  });

  test('refuses a missing password, or one that would not survive inside RABBITMQ_URL, naming the variable', () => {
    const missing = render({ ...passwords, ORDERS_RABBITMQ_PASSWORD: '' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('ORDERS_RABBITMQ_PASSWORD');
    const unsafe = render({ ...passwords, USERS_RABBITMQ_PASSWORD: 'p@ss/word' });
    expect(unsafe.status).not.toBe(0);
    expect(unsafe.stderr).toContain('USERS_RABBITMQ_PASSWORD');
  });

  test('is started with the placeholders refused, so a stack from .env.example never runs with them', () => {
    const entrypoint = read('rabbitmq/entrypoint.sh');
    for (const variable of RABBITMQ_PASSWORDS) expect(entrypoint).toContain(variable);
    expect(entrypoint).toContain('== change-me*');
  });
});

describe('.env.example', () => {
  test('sets every variable docker-compose.yml interpolates', () => {
    const interpolated = [...new Set(interpolations(composeText).map((u) => u.name))];
    expect(interpolated.filter((name) => !envExample.active.has(name))).toEqual([]);
  });

  test('sets no variable that nothing uses', () => {
    const interpolated = new Set(interpolations(composeText).map((u) => u.name));
    const unused = [...envExample.active.keys()].filter((name) => !interpolated.has(name) && !COMPOSE_OWN_VARIABLES.includes(name));
    expect(unused).toEqual([]);
  });

  test('documents every setting of every service, set, commented out or feeding it under a compose name', () => {
    const documented = new Set([...envExample.active.keys(), ...envExample.commented]);
    // e.g. METRICS_PORT, which differs per service: compose sets it from LISTINGS_METRICS_PORT, …
    const fedByExample = (name: string) =>
      SERVICES.filter((s) => SERVICE_ENV[s]?.includes(name)).every((s) => {
        const value = composeEnv(s)[name];
        return value !== undefined && interpolations(String(value)).some((u) => envExample.active.has(u.name));
      });
    const all = [...new Set(Object.values(SERVICE_ENV).flat())].filter((name) => !NODE_RUNTIME.includes(name));
    expect(all.filter((name) => !documented.has(name) && !fedByExample(name))).toEqual([]);
  });

  test('explains each variable in a comment line right above it', () => {
    envExample.lines.forEach((line, i) => {
      if (/^[A-Z][A-Z0-9_]*=/.test(line)) expect({ line, commentAbove: (envExample.lines[i - 1] ?? '').startsWith('#') }).toEqual({ line, commentAbove: true });
    });
  });

  test('holds placeholders production refuses: change-me… for passwords, run-npm-run-keys for keys', () => {
    for (const secret of REQUIRED_SECRETS.filter((s) => !KEYS.includes(s))) expect({ secret, value: envExample.active.get(secret) }).toEqual({ secret, value: expect.stringMatching(/^change-me/) });
    for (const key of KEYS) expect({ key, value: envExample.active.get(key) }).toEqual({ key, value: KEY_PLACEHOLDER });
    // `grep -v '=run-npm-run-keys$' .env.example > .env && npm run --silent keys >> .env` leaves no placeholder key behind.
    expect([...envExample.active].filter(([, value]) => value === KEY_PLACEHOLDER).map(([name]) => name).sort()).toEqual([...KEYS].sort());
    expect(envExample.active.has('JWT_SECRET')).toBe(false);
  });

  test('uses the services’ own defaults', () => {
    expect(exampleVars).toMatchObject({
      LOG_LEVEL: 'info',
      BUS_PREFIX: 'market',
      RPC_TIMEOUT_MS: '5000',
      DB_NAME_PREFIX: 'market_',
      USERS_PORT: '3001',
      ACCESS_TOKEN_TTL: '15m',
      REFRESH_TOKEN_TTL: '7d',
      BCRYPT_ROUNDS: '10',
      ORDER_TTL_SECONDS: '900',
      PORT: '8080',
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_MS: '10000',
      TRUST_PROXY: 'false',
      CACHE_TTL_SECONDS: '60',
      STRIPE_SECRET_KEY: '',
      GATEWAY_METRICS_PORT: '9100',
      MAX_PENDING_ORDERS_PER_BUYER: '5',
      REHOLD_COOLDOWN_SECONDS: '600',
      WAITLIST_HOLD_SECONDS: '300',
      WAITLIST_MAX_LENGTH: '100',
      WAITLIST_MAX_PER_PERSON: '10',
      COUPON_FAILURES_MAX: '10',
      COUPON_FAILURES_WINDOW_SECONDS: '900',
      // The stack runs as it comes, taking no money; say stripe for real payments.
      PAYMENTS_PROVIDER: 'sandbox',
    });
  });
});

describe('the Kubernetes manifests', () => {
  test('parse as YAML without errors or warnings', () => {
    for (const file of k8sFiles) {
      for (const doc of parseAllDocuments(read(`k8s/${file}`))) {
        expect({ file, errors: doc.errors.map(String), warnings: doc.warnings.map(String) }).toEqual({ file, errors: [], warnings: [] });
      }
    }
  });

  test('are all listed in kustomization.yaml, except the secret template', () => {
    const resources = list(kustomization.resources).map(String);
    const expected = readdirSync(path.join(ROOT, 'k8s'))
      .filter((f) => f !== 'README.md' && f !== 'kustomization.yaml' && f !== 'secret.example.yaml')
      .sort();
    expect([...resources].sort()).toEqual(expected);
    // Applying the template would overwrite the real Secret, made with `kubectl create secret`.
    expect(resources).not.toContain('secret.example.yaml');
    expect(existsSync(path.join(ROOT, 'k8s/README.md'))).toBe(true);
  });

  test('put everything in the market namespace', () => {
    expect(kustomization.namespace).toBe('market');
    expect(ofKind('Namespace').map((n) => n.name)).toEqual(['market']);
    for (const { file, obj } of k8sDocs.filter((d) => d.obj.kind && !['Namespace', 'Kustomization'].includes(String(d.obj.kind)))) {
      expect({ file, kind: obj.kind, namespace: dict(obj.metadata).namespace }).toEqual({ file, kind: obj.kind, namespace: 'market' });
    }
  });

  test('have one Deployment and one ClusterIP Service per service, in a file named after it', () => {
    expect(ofKind('Deployment').map((d) => d.name).sort()).toEqual([...SERVICES].sort());
    for (const service of SERVICES) {
      const inFile = k8sDocs.filter((d) => d.file === `${service}.yaml`).map((d) => d.obj.kind);
      expect({ service, kinds: inFile }).toEqual({ service, kinds: ['Deployment', 'Service'] });
      const svc = ofKind('Service').find((s) => s.name === service);
      expect(dict(svc?.obj.spec).type).toBe('ClusterIP');
    }
  });

  describe.each(SERVICES)('the %s Deployment', (service) => {
    const deployment = ofKind('Deployment').find((d) => d.name === service);
    const podSpec = at(deployment?.obj, 'spec', 'template', 'spec');
    const containers = list(podSpec.containers).map(dict);
    const container = containers[0] ?? {};
    const [portVar, port] = HEALTH_PORT[service] as [string, number];
    const ports = list(container.ports).map(dict);
    const portByName = (p: unknown) => (typeof p === 'number' ? p : ports.find((cp) => cp.name === p)?.containerPort);

    test('runs the market image of that service', () => {
      expect(containers).toHaveLength(1);
      expect(container.image).toBe(`market/${service}:latest`);
      expect(list(kustomization.images).map((i) => dict(i).name)).toContain(`market/${service}`);
    });

    test('probes readiness on /readyz and liveness on /healthz at its health port', () => {
      const readiness = at(container.readinessProbe, 'httpGet');
      const liveness = at(container.livenessProbe, 'httpGet');
      expect(readiness.path).toBe('/readyz');
      expect(liveness.path).toBe('/healthz');
      expect(portByName(readiness.port)).toBe(port);
      expect(portByName(liveness.port)).toBe(port);
    });

    test('tells the service the same port its probes and Service use', () => {
      const fromConfigMaps = Object.assign({}, ...list(container.envFrom).map((e) => configMaps.get(String(at(e, 'configMapRef').name)) ?? {})) as Dict;
      expect(fromConfigMaps[portVar]).toBe(String(port));
      const svc = ofKind('Service').find((s) => s.name === service);
      const svcPorts = list(dict(svc?.obj.spec).ports).map(dict);
      expect(svcPorts.map((p) => portByName(p.targetPort))).toEqual([port]);
      expect(at(svc?.obj.spec, 'selector')).toEqual(at(deployment?.obj.spec, 'selector', 'matchLabels'));
    });

    test('requests and limits CPU and memory', () => {
      const resources = dict(container.resources);
      for (const kind of ['requests', 'limits']) {
        expect(Object.keys(dict(resources[kind])).sort()).toEqual(['cpu', 'memory']);
      }
    });

    test('runs as a non-root user without privilege escalation', () => {
      const podSecurity = dict(podSpec.securityContext);
      expect(podSecurity.runAsNonRoot).toBe(true);
      expect(podSecurity.runAsUser).toEqual(expect.any(Number));
      expect(podSecurity.runAsUser).not.toBe(0);
      const containerSecurity = dict(container.securityContext);
      expect(containerSecurity.allowPrivilegeEscalation).toBe(false);
      expect(containerSecurity.readOnlyRootFilesystem).toBe(true);
    });

    test('gets only variables the service reads, from ConfigMaps and Secret keys that exist', () => {
      const names: string[] = [];
      for (const source of list(container.envFrom).map(dict)) {
        const ref = String(dict(source.configMapRef).name);
        expect({ ref, exists: configMaps.has(ref) }).toEqual({ ref, exists: true });
        names.push(...Object.keys(configMaps.get(ref) ?? {}));
        expect(source.secretRef).toBeUndefined();
      }
      const secretKeys = Object.keys(dict(exampleSecret?.obj.stringData));
      for (const variable of list(container.env).map(dict)) {
        names.push(String(variable.name));
        const secretRef = at(variable.valueFrom, 'secretKeyRef');
        if (secretRef.name !== undefined) {
          expect(secretRef.name).toBe('market-secrets');
          expect(secretKeys).toContain(secretRef.key);
        }
      }
      expect(names.filter((n) => !(SERVICE_ENV[service] as string[]).includes(n))).toEqual([]);
      for (const needed of ['NODE_ENV', 'RABBITMQ_URL', portVar]) expect(names).toContain(needed);
    });

    test('gets its own signing key and RabbitMQ user, the public keys, and the token-signing key only if it is users-service', () => {
      const fromSecret = Object.fromEntries(
        list(container.env)
          .map(dict)
          .filter((v) => at(v.valueFrom, 'secretKeyRef').key !== undefined)
          .map((v) => [String(v.name), String(at(v.valueFrom, 'secretKeyRef').key)]),
      );
      expect(fromSecret.SERVICE_PRIVATE_KEY).toBe(`${own(service).prefix}_SERVICE_KEY`);
      expect(fromSecret.RABBITMQ_URL).toBe(`${own(service).prefix}_RABBITMQ_URL`);
      expect(fromSecret.JWT_PUBLIC_KEYS).toBe('JWT_PUBLIC_KEYS');
      expect(fromSecret.SERVICE_PUBLIC_KEYS).toBe('SERVICE_PUBLIC_KEYS');
      expect(Object.values(fromSecret).filter((key) => SERVICE_KEYS.includes(key))).toEqual([`${own(service).prefix}_SERVICE_KEY`]);
      expect(Object.values(fromSecret).filter((key) => /_RABBITMQ_URL$/.test(key))).toEqual([`${own(service).prefix}_RABBITMQ_URL`]);
      expect(Object.values(fromSecret).includes('JWT_PRIVATE_KEY')).toBe(service === 'users-service');
      const url = new URL(String(dict(exampleSecret?.obj.stringData)[`${own(service).prefix}_RABBITMQ_URL`]));
      expect(url.username).toBe(own(service).rabbitUser);
    });

    test('is covered by a NetworkPolicy that admits only its callers, on ports it listens on', () => {
      const podLabels = at(deployment?.obj.spec, 'template', 'metadata', 'labels');
      const policies = ofKind('NetworkPolicy').filter((p) => {
        const selector = at(p.obj.spec, 'podSelector', 'matchLabels');
        return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
      });
      expect(policies.map((p) => p.name)).toEqual([service]);
      const spec = dict(policies[0]?.obj.spec);
      expect(spec.policyTypes).toEqual(['Ingress']);
      const listening = new Set(ports.map((p) => p.containerPort));
      const admitted: { port: unknown; from: string }[] = [];
      for (const rule of list(spec.ingress).map(dict)) {
        // A rule without `from` or `ports` would admit every source or every port.
        expect(list(rule.from).length).toBeGreaterThan(0);
        expect(list(rule.ports).length).toBeGreaterThan(0);
        for (const port of list(rule.ports).map(dict)) {
          expect({ port: port.port, listening: listening.has(portByName(port.port)) }).toEqual({ port: port.port, listening: true });
          for (const peer of list(rule.from).map(dict)) {
            expect(peer.ipBlock).toBeUndefined();
            const namespace = at(peer.namespaceSelector, 'matchLabels')['kubernetes.io/metadata.name'];
            const pod = at(peer.podSelector, 'matchLabels')['app.kubernetes.io/name'];
            admitted.push({ port: portByName(port.port), from: namespace !== undefined ? `namespace ${String(namespace)}` : `pod ${String(pod)}` });
          }
        }
      }
      expect(admitted).toEqual(expect.arrayContaining(CALLERS[service] ?? []));
      expect(admitted.filter((a) => !(CALLERS[service] ?? []).some((c) => c.port === a.port && c.from === a.from))).toEqual([]);
    });

    test('is scaled on CPU by a HorizontalPodAutoscaler', () => {
      const hpa = ofKind('HorizontalPodAutoscaler').find((h) => at(h.obj.spec, 'scaleTargetRef').name === service);
      expect(hpa?.obj.apiVersion).toBe('autoscaling/v2');
      expect(hpa?.file).toBe('hpa.yaml');
      const cpu = list(dict(hpa?.obj.spec).metrics).map(dict).find((m) => dict(m.resource).name === 'cpu');
      expect(at(cpu?.resource, 'target')).toEqual({ type: 'Utilization', averageUtilization: 70 });
      expect(Number(dict(hpa?.obj.spec).minReplicas)).toBeGreaterThanOrEqual(2);
      // With an HPA, a replicas count in the Deployment would reset the scale on every apply.
      expect(dict(deployment?.obj.spec).replicas).toBeUndefined();
    });
  });

  test('deny every connection into the namespace that a NetworkPolicy does not admit', () => {
    const denyAll = ofKind('NetworkPolicy').filter((p) => {
      const spec = dict(p.obj.spec);
      return Object.keys(dict(spec.podSelector)).length === 0 && list(spec.policyTypes).includes('Ingress') && list(spec.ingress).length === 0;
    });
    expect(denyAll.map((p) => p.file)).toEqual(['network-policy.yaml']);
  });

  test('admit the ingress controller’s pods to the gateway from its namespace only (both selectors in one peer)', () => {
    const policy = ofKind('NetworkPolicy').find((p) => p.name === 'api-gateway');
    const peers = list(dict(policy?.obj.spec).ingress)
      .map(dict)
      .filter((rule) => list(rule.ports).some((p) => dict(p).port === 8080))
      .flatMap((rule) => list(rule.from).map(dict));
    expect(peers).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
      },
    ]);
  });

  test('trust exactly one proxy hop, the ingress controller, so a client cannot choose its own address', () => {
    expect(configMaps.get('api-gateway-config')?.TRUST_PROXY).toBe('1');
  });

  test('bind every listener to the pod address and serve the gateway’s /metrics on its own ops port', () => {
    expect(configMaps.get('market-common')?.HOST).toBe('0.0.0.0');
    const gatewayConfig = configMaps.get('api-gateway-config') ?? {};
    expect(gatewayConfig.METRICS_PORT).toBe('9100');
    const gateway = ofKind('Deployment').find((d) => d.name === 'api-gateway');
    const template = at(gateway?.obj.spec, 'template');
    const container = dict(list(dict(template.spec).containers)[0]);
    expect(list(container.ports).map(dict).map((p) => p.containerPort)).toEqual([8080, 9100]);
    expect(at(template.metadata, 'annotations')['prometheus.io/port']).toBe('9100');
  });

  test('list the hold, waiting-list, coupon and payment-provider settings with their defaults', () => {
    expect(configMaps.get('orders-service-config')).toMatchObject({
      MAX_PENDING_ORDERS_PER_BUYER: '5', REHOLD_COOLDOWN_SECONDS: '600', WAITLIST_HOLD_SECONDS: '300', WAITLIST_MAX_LENGTH: '100', WAITLIST_MAX_PER_PERSON: '10',
    });
    expect(configMaps.get('payments-service-config')).toMatchObject({ COUPON_FAILURES_MAX: '10', COUPON_FAILURES_WINDOW_SECONDS: '900' });
    expect(['stripe', 'sandbox']).toContain(configMaps.get('payments-service-config')?.PAYMENTS_PROVIDER);
  });

  test('come with a secret template whose keys production refuses: change-me… and run-npm-run-keys', () => {
    const data = dict(exampleSecret?.obj.stringData);
    for (const key of KEYS) expect({ key, value: data[key] }).toEqual({ key, value: KEY_PLACEHOLDER });
    for (const service of SERVICES) {
      const url = new URL(String(data[`${own(service).prefix}_RABBITMQ_URL`]));
      expect({ service, password: url.password }).toEqual({ service, password: expect.stringMatching(/^change-me/) });
    }
    expect(Object.keys(data)).not.toContain('JWT_SECRET');
    expect(Object.keys(data)).not.toContain('RABBITMQ_URL');
  });

  test('route the ingress to the gateway Service', () => {
    const ingresses = ofKind('Ingress');
    expect(ingresses.map((i) => i.file)).toEqual(['ingress.yaml']);
    const backends = list(dict(ingresses[0]?.obj.spec).rules)
      .flatMap((r) => list(at(r, 'http').paths))
      .map((p) => at(p, 'backend', 'service'));
    expect(backends.length).toBeGreaterThan(0);
    const gatewayPorts = list(dict(ofKind('Service').find((s) => s.name === 'api-gateway')?.obj.spec).ports).map(dict);
    for (const backend of backends) {
      expect(backend.name).toBe('api-gateway');
      const port = dict(backend.port);
      expect(gatewayPorts.some((p) => p.name === port.name || p.port === port.number)).toBe(true);
    }
  });

  test('come with a secret template holding every key the Deployments reference', () => {
    expect(exampleSecret?.file).toBe('secret.example.yaml');
    expect(read('k8s/secret.example.yaml')).toMatch(/kubectl (-n market )?create secret/);
    const referenced = new Set(
      ofKind('Deployment').flatMap((d) =>
        list(dict(list(at(d.obj.spec, 'template', 'spec').containers)[0]).env).map((e) => at(e, 'valueFrom', 'secretKeyRef').key),
      ),
    );
    referenced.delete(undefined);
    expect([...referenced].sort()).toEqual(Object.keys(dict(exampleSecret?.obj.stringData)).sort());
  });
});
