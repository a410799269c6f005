import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once at start. A bad or missing setting throws a ConfigError naming it;
 * `main.ts` prints it and exits, so a misconfigured service never half-starts.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze(result.data);
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
  RABBITMQ_URL: setting.url('amqp://guest:guest@localhost:5672', ['amqp:', 'amqps:']),
  /** Namespace for exchanges and queues, so several stacks (or test runs) can share one broker. */
  BUS_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1-40 lowercase letters, digits, _ or -')
    .default('market'),
  RPC_TIMEOUT_MS: setting.int(5000, 100, 120_000),
};

export const databaseSettings = {
  MYSQL_URL: setting.url('mysql://root@localhost:3306', ['mysql:']),
  DB_NAME_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]{0,40}$/, 'must be lowercase letters, digits or _')
    .default('market_'),
};

const DEV_JWT_SECRET = 'market-development-secret-do-not-use-in-production';

export const jwtSettings = {
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
};

/** For `.superRefine`: JWT_SECRET is required in production; development and tests use a fixed one. */
export function requireJwtSecretInProduction(env: { NODE_ENV: string; JWT_SECRET?: string }, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
  }
}

export function jwtSecretOf(cfg: { JWT_SECRET?: string | undefined }): string {
  return cfg.JWT_SECRET ?? DEV_JWT_SECRET;
}
