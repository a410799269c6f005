import { z } from 'zod';
import { baseSettings, databaseSettings, jwtSettings, loadConfig, requireJwtSecretInProduction, setting } from '@market/common';

export const usersConfigSchema = z
  .object({
    ...baseSettings,
    ...databaseSettings,
    ...jwtSettings,
    USERS_PORT: setting.port(3001),
    ACCESS_TOKEN_TTL: setting.duration('15m'),
    REFRESH_TOKEN_TTL: setting.duration('7d'),
    BCRYPT_ROUNDS: setting.int(10, 4, 15),
    ADMIN_EMAIL: setting.optionalString().pipe(z.email().optional()),
    ADMIN_PASSWORD: setting.optionalString().pipe(z.string().min(8, 'must be at least 8 characters').optional()),
  })
  .superRefine(requireJwtSecretInProduction)
  .superRefine((env, ctx) => {
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
      ctx.addIssue({ code: 'custom', path: [env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'], message: 'ADMIN_EMAIL and ADMIN_PASSWORD go together' });
    }
  });

export type UsersConfig = z.infer<typeof usersConfigSchema>;

export const loadUsersConfig = (env?: Record<string, string | undefined>): Readonly<UsersConfig> => loadConfig(usersConfigSchema, env);
