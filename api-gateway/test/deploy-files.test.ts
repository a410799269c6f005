/**
 * Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yml, .env.example
 * and k8s/. Needs no Docker engine and no cluster; `docker compose config` runs only where a compose
 * client is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { listingsConfigSchema } from '../../listings-service/src/config';
import { ordersConfigSchema } from '../../orders-service/src/config';
import { paymentsConfigSchema } from '../../payments-service/src/config';
import { usersConfigSchema } from '../../users-service/src/config';
import { gatewayConfigSchema } from '../src/config';

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
/** The variable holding the port of each service's /healthz, /readyz and /metrics, and its default. */
const HEALTH_PORT: Record<string, [string, number]> = {
  'api-gateway': ['PORT', 8080],
  'users-service': ['USERS_PORT', 3001],
  'listings-service': ['METRICS_PORT', 9101],
  'orders-service': ['METRICS_PORT', 9102],
  'payments-service': ['METRICS_PORT', 9103],
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
/** Secrets compose must refuse to start without (`${NAME:?message}`). */
const REQUIRED_SECRETS = ['JWT_SECRET', 'MYSQL_ROOT_PASSWORD', 'RABBITMQ_PASSWORD'];
/** Variables docker compose itself reads from .env (not interpolated in the file). */
const COMPOSE_OWN_VARIABLES = ['COMPOSE_PROJECT_NAME'];

// ---- helpers ----

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const dict = (v: unknown): Dict => (isDict(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

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
    expect(dict(composeServices.mysql).image).toBe('mysql:8.4');
    expect(dict(composeServices.redis).image).toBe('redis:7-alpine');
    expect(dict(composeServices.rabbitmq).image).toBe('rabbitmq:4-management');
  });

  test('keeps MySQL and RabbitMQ data in named volumes', () => {
    const volumes = Object.keys(dict(compose.volumes));
    for (const server of ['mysql', 'rabbitmq']) {
      const mounts = list(dict(composeServices[server]).volumes).map((v) => String(v).split(':')[0]);
      expect(mounts.some((m) => volumes.includes(m as string))).toBe(true);
    }
  });

  test('builds all five services from the shared Dockerfile with their SERVICE build argument', () => {
    expect(Object.keys(composeServices).sort()).toEqual([...SERVICES, ...STATEFUL].sort());
    for (const service of SERVICES) {
      const build = dict(dict(composeServices[service]).build);
      expect({ service, context: build.context, args: build.args }).toEqual({ service, context: '.', args: { SERVICE: service } });
      expect(dict(composeServices[service]).image).toBe(`market/${service}:latest`);
      expect(dict(composeServices[service]).restart).toBe('unless-stopped');
    }
  });

  test('gives every container a healthcheck', () => {
    for (const [name, service] of Object.entries(composeServices)) {
      expect({ name, test: list(dict(dict(service).healthcheck).test).length > 0 }).toEqual({ name, test: true });
    }
  });

  test('checks each service with node itself on /healthz at the port the service is told to listen on', () => {
    for (const service of SERVICES) {
      const [portVar] = HEALTH_PORT[service] as [string, number];
      const check = list(dict(dict(composeServices[service]).healthcheck).test).map(String);
      expect(check.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      const script = interpolate(check[3] as string, exampleVars);
      expect(() => new Function(script)).not.toThrow();
      const port = interpolate(String(dict(dict(composeServices[service]).environment)[portVar]), exampleVars);
      expect(script).toContain(`fetch('http://127.0.0.1:${port}/healthz')`);
    }
  });

  test('starts each service only once the servers it needs are healthy', () => {
    for (const service of SERVICES) {
      const dependsOn = dict(dict(composeServices[service]).depends_on);
      expect({ service, needs: Object.keys(dependsOn).sort() }).toEqual({ service, needs: [...(NEEDS[service] as string[])].sort() });
      for (const [server, how] of Object.entries(dependsOn)) {
        expect({ service, server, condition: dict(how).condition }).toEqual({ service, server, condition: 'service_healthy' });
      }
    }
  });

  test('publishes only the gateway, plus the RabbitMQ management UI on localhost', () => {
    const published = Object.entries(composeServices)
      .filter(([, s]) => list(dict(s).ports).length > 0)
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(['api-gateway', 'rabbitmq']);
    const gatewayPort = interpolate(String(list(dict(composeServices['api-gateway']).ports)[0]), exampleVars);
    expect(gatewayPort).toBe('8080:8080');
    for (const mapping of list(dict(composeServices.rabbitmq).ports).map((p) => interpolate(String(p), exampleVars))) {
      expect(mapping).toMatch(/^127\.0\.0\.1:\d+:15672$/);
    }
  });

  test('passes each service only variables that service reads', () => {
    for (const service of SERVICES) {
      const names = Object.keys(dict(dict(composeServices[service]).environment));
      expect({ service, unknown: names.filter((n) => !(SERVICE_ENV[service] as string[]).includes(n)) }).toEqual({ service, unknown: [] });
    }
  });

  test('runs the services in production mode against the compose servers', () => {
    for (const service of SERVICES) {
      const env = dict(dict(composeServices[service]).environment);
      const value = (name: string) => interpolate(String(env[name]), exampleVars);
      expect(value('NODE_ENV')).toBe('production');
      expect(value('RABBITMQ_URL')).toMatch(/^amqp:\/\/[^:]+:[^@]+@rabbitmq:5672$/);
      if (SERVICE_ENV[service]?.includes('MYSQL_URL')) expect(value('MYSQL_URL')).toMatch(/^mysql:\/\/root:[^@]+@mysql:3306$/);
      for (const name of Object.keys(env)) expect(() => value(name)).not.toThrow();
    }
    const gateway = dict(dict(composeServices['api-gateway']).environment);
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
        const value = dict(dict(composeServices[s]).environment)[name];
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

  test('holds obvious placeholders for the secrets, with a JWT_SECRET long enough for production', () => {
    for (const secret of REQUIRED_SECRETS) expect(envExample.active.get(secret)).toMatch(/^change-me/);
    expect((envExample.active.get('JWT_SECRET') ?? '').length).toBeGreaterThanOrEqual(32);
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
    const podSpec = dict(dict(dict(dict(deployment?.obj).spec).template).spec);
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
      const readiness = dict(dict(container.readinessProbe).httpGet);
      const liveness = dict(dict(container.livenessProbe).httpGet);
      expect(readiness.path).toBe('/readyz');
      expect(liveness.path).toBe('/healthz');
      expect(portByName(readiness.port)).toBe(port);
      expect(portByName(liveness.port)).toBe(port);
    });

    test('tells the service the same port its probes and Service use', () => {
      const fromConfigMaps = Object.assign({}, ...list(container.envFrom).map((e) => configMaps.get(String(dict(dict(e).configMapRef).name)) ?? {})) as Dict;
      expect(fromConfigMaps[portVar]).toBe(String(port));
      const svc = ofKind('Service').find((s) => s.name === service);
      const svcPorts = list(dict(svc?.obj.spec).ports).map(dict);
      expect(svcPorts.map((p) => portByName(p.targetPort))).toEqual([port]);
      expect(dict(dict(svc?.obj.spec).selector)).toEqual(dict(dict(dict(deployment?.obj.spec).selector).matchLabels));
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
        const secretRef = dict(dict(variable.valueFrom).secretKeyRef);
        if (secretRef.name !== undefined) {
          expect(secretRef.name).toBe('market-secrets');
          expect(secretKeys).toContain(secretRef.key);
        }
      }
      expect(names.filter((n) => !(SERVICE_ENV[service] as string[]).includes(n))).toEqual([]);
      for (const needed of ['NODE_ENV', 'RABBITMQ_URL', portVar]) expect(names).toContain(needed);
    });

    test('is scaled on CPU by a HorizontalPodAutoscaler', () => {
      const hpa = ofKind('HorizontalPodAutoscaler').find((h) => dict(dict(h.obj.spec).scaleTargetRef).name === service);
      expect(hpa?.obj.apiVersion).toBe('autoscaling/v2');
      expect(hpa?.file).toBe('hpa.yaml');
      const cpu = list(dict(hpa?.obj.spec).metrics).map(dict).find((m) => dict(m.resource).name === 'cpu');
      expect(dict(dict(cpu?.resource).target)).toEqual({ type: 'Utilization', averageUtilization: 70 });
      expect(Number(dict(hpa?.obj.spec).minReplicas)).toBeGreaterThanOrEqual(2);
      // With an HPA, a replicas count in the Deployment would reset the scale on every apply.
      expect(dict(deployment?.obj.spec).replicas).toBeUndefined();
    });
  });

  test('route the ingress to the gateway Service', () => {
    const ingresses = ofKind('Ingress');
    expect(ingresses.map((i) => i.file)).toEqual(['ingress.yaml']);
    const backends = list(dict(ingresses[0]?.obj.spec).rules)
      .flatMap((r) => list(dict(dict(r).http).paths))
      .map((p) => dict(dict(dict(p).backend).service));
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
        list(dict(list(dict(dict(dict(d.obj.spec).template).spec).containers)[0]).env).map((e) => dict(dict(dict(e).valueFrom).secretKeyRef).key),
      ),
    );
    referenced.delete(undefined);
    expect([...referenced].sort()).toEqual(Object.keys(dict(exampleSecret?.obj.stringData)).sort());
  });
});
