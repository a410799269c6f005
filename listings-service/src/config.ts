import { z } from 'zod';
import { baseSettings, databaseSettings, keySettings, loadConfig, setting } from '@market/common';

export const listingsConfigSchema = z.object({
  ...baseSettings,
  ...databaseSettings,
  ...keySettings,
  METRICS_PORT: setting.port(9101),
});

export type ListingsConfig = z.infer<typeof listingsConfigSchema>;

export const loadListingsConfig = (env?: Record<string, string | undefined>): Readonly<ListingsConfig> => loadConfig(listingsConfigSchema, env);
