import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { isServiceName, publicKeyFrom, privateKeyFrom, SERVICE_NAMES, ServiceIdentity, type ServiceName } from '../auth';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once at start. A bad or missing setting throws a ConfigError naming it;
 * `main.ts` prints it and exits, so a misconfigured service never half-starts.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  const lines = [
    ...(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`)),
    ...placeholderIssues(schema, env),
  ];
  if (!result.success || lines.length) throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  return Object.freeze(result.data) as Readonly<z.infer<S>>;
}

/** Setting builders, so every service spells the same setting the same way. */
export const setting = {
  int: (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def),
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  url: (def: string, protocols: string[]) =>
    z
      .string()
      .default(def)
      .refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), `must be a ${protocols.join(' or ')} URL`),
  /** One URL, or several separated by commas (the nodes of a cluster, tried in turn). */
  urlList: (def: string, protocols: string[]) =>
    z
      .string()
      .default(def)
      .refine(
        (v) => v.split(',').every((u) => URL.canParse(u.trim()) && protocols.includes(new URL(u.trim()).protocol)),
        `must be a ${protocols.join(' or ')} URL, or several separated by commas`,
      ),
  optionalString: () =>
    z
      .string()
      .optional()
      .transform((v) => (v === '' ? undefined : v)),
  /** `15m`, `7d`, `3600s` or a bare number of seconds. */
  duration: (def: string) =>
    z
      .string()
      .default(def)
      .transform((v, ctx) => {
        const seconds = parseDurationSeconds(v);
        if (seconds === undefined) {
          ctx.addIssue({ code: 'custom', message: 'must be a duration such as 900, 15m, 12h or 7d' });
          return z.NEVER;
        }
        return seconds;
      }),
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function parseDurationSeconds(value: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
  return seconds > 0 ? seconds : undefined;
}

/** Settings every service shares. */
export const baseSettings = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  RABBITMQ_URL: setting.urlList('amqp://guest:guest@localhost:5672', ['amqp:', 'amqps:']),
  /** Namespace for exchanges and queues, so several stacks (or test runs) can share one broker. */
  BUS_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1-40 lowercase letters, digits, _ or -')
    .default('market'),
  RPC_TIMEOUT_MS: setting.int(5000, 100, 120_000),
  /** The address every listener binds to: loopback unless a container or HOST says otherwise. */
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
};

/**
 * How long the gateway waits for payments.create: one payment is several calls in a row (the order,
 * the card provider, completing the order, the capture), so it gets three RPC timeouts. payments-service
 * derives the time it gives the card provider from the same number (stripeTimingOf).
 */
export const paymentRpcTimeoutMs = (rpcTimeoutMs: number): number => rpcTimeoutMs * 3;

export const databaseSettings = {
  MYSQL_URL: setting.url('mysql://root@localhost:3306', ['mysql:']),
  DB_NAME_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]{0,40}$/, 'must be lowercase letters, digits or _')
    .default('market_'),
};

/** One base64 DER key per setting; the message names the setting (zod adds its path). */
const keySetting = <T>(parse: (value: string) => T) =>
  z
    .string({ message: 'is required: run `npm run keys` to make the key pairs (npm start does it for development)' })
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const keyList = (value: string): KeyObject[] => {
  const keys = value.split(',').map((k) => k.trim()).filter(Boolean).map(publicKeyFrom);
  if (!keys.length) throw new Error('must list at least one public key');
  return keys;
};

/** `api-gateway=<spki>,users=<spki>,…`; a name may appear twice while its key is being rotated. */
const serviceKeyMap = (value: string): ReadonlyMap<ServiceName, readonly KeyObject[]> => {
  const map = new Map<ServiceName, KeyObject[]>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    if (eq < 0 || !isServiceName(name)) throw new Error(`entries look like name=<base64 SPKI>, with name one of ${SERVICE_NAMES.join(', ')}`);
    map.set(name, [...(map.get(name) ?? []), publicKeyFrom(entry.slice(eq + 1))]);
  }
  const missing = SERVICE_NAMES.filter((n) => !map.has(n));
  if (missing.length) throw new Error(`has no key for ${missing.join(', ')}`);
  return map;
};

/**
 * Every process verifies access tokens (JWT_PUBLIC_KEYS) and signs what it sends on the broker with
 * its own key (SERVICE_PRIVATE_KEY), checking others' messages with SERVICE_PUBLIC_KEYS. None of these
 * has a default: a stack started without keys refuses to start rather than run with a known one.
 */
export const keySettings = {
  JWT_PUBLIC_KEYS: keySetting(keyList),
  SERVICE_PRIVATE_KEY: keySetting(privateKeyFrom),
  SERVICE_PUBLIC_KEYS: keySetting(serviceKeyMap),
};

/** users-service alone: the key that signs access tokens. */
export const tokenSigningSettings = {
  JWT_PRIVATE_KEY: keySetting(privateKeyFrom),
};

export function serviceIdentityOf(name: ServiceName, cfg: { SERVICE_PRIVATE_KEY: KeyObject; SERVICE_PUBLIC_KEYS: ReadonlyMap<ServiceName, readonly KeyObject[]> }): ServiceIdentity {
  return new ServiceIdentity(name, cfg.SERVICE_PRIVATE_KEY, cfg.SERVICE_PUBLIC_KEYS);
}

/** Values .env.example ships with; production refuses to start with any of them still in place. */
export const PLACEHOLDER_MARKERS = ['change-me', 'run-npm-run-keys'];

function placeholderIssues(schema: z.ZodType, env: Record<string, string | undefined>): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const shape = shapeOf(schema);
  return Object.keys(shape)
    .filter((key) => PLACEHOLDER_MARKERS.some((marker) => env[key]?.includes(marker)))
    .map((key) => `${key}: still holds the .env.example placeholder; set a real value for production`);
}

function shapeOf(schema: z.ZodType): Record<string, unknown> {
  const def = (schema as unknown as { def?: { shape?: Record<string, unknown>; in?: z.ZodType; schema?: z.ZodType } }).def;
  if (def?.shape) return def.shape;
  if (def?.in) return shapeOf(def.in);
  if (def?.schema) return shapeOf(def.schema);
  return {};
}
