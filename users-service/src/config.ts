import { z } from 'zod';
import { baseSettings, databaseSettings, keySettings, loadConfig, setting, tokenSigningSettings } from '@market/common';

export const usersConfigSchema = z
  .object({
    ...baseSettings,
    ...databaseSettings,
    ...keySettings,
    ...tokenSigningSettings,
    USERS_PORT: setting.port(3001),
    // At most a day: a revocation is remembered (by the gateway's Redis) for longer than any token lives.
    ACCESS_TOKEN_TTL: setting.duration('15m').refine((s) => s <= 86_400, 'must be at most 24h'),
    REFRESH_TOKEN_TTL: setting.duration('7d'),
    BCRYPT_ROUNDS: setting.int(10, 4, 15),
    SIGNIN_FAILURES_MAX: setting.int(10, 1, 1000),
    SIGNIN_FAILURES_WINDOW_SECONDS: setting.int(900, 1, 86_400),
    ADMIN_EMAIL: setting.optionalString().pipe(z.email().optional()),
    ADMIN_PASSWORD: setting.optionalString().pipe(z.string().min(8, 'must be at least 8 characters').optional()),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
      ctx.addIssue({ code: 'custom', path: [env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'], message: 'ADMIN_EMAIL and ADMIN_PASSWORD go together' });
    }
  });

export type UsersConfig = z.infer<typeof usersConfigSchema>;

export const loadUsersConfig = (env?: Record<string, string | undefined>): Readonly<UsersConfig> => loadConfig(usersConfigSchema, env);
