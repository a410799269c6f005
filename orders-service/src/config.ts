import { z } from 'zod';
import { baseSettings, databaseSettings, loadConfig, setting } from '@market/common';

export const ordersConfigSchema = z.object({
  ...baseSettings,
  ...databaseSettings,
  METRICS_PORT: setting.port(9102),
  /** How long an unpaid order holds its listing (the contract's 15 minutes by default). */
  ORDER_TTL_SECONDS: setting.int(900, 1, 86_400),
});

export type OrdersConfig = z.infer<typeof ordersConfigSchema>;

export const loadOrdersConfig = (env?: Record<string, string | undefined>): Readonly<OrdersConfig> => loadConfig(ordersConfigSchema, env);
