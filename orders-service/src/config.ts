import { z } from 'zod';
import { baseSettings, databaseSettings, keySettings, loadConfig, setting } from '@market/common';

export const ordersConfigSchema = z.object({
  ...baseSettings,
  ...databaseSettings,
  ...keySettings,
  METRICS_PORT: setting.port(9102),
  /** How long an unpaid order holds its listing (the contract's 15 minutes by default). */
  ORDER_TTL_SECONDS: setting.int(900, 1, 86_400),
  /** How many listings one buyer may hold at once (pending orders): one buyer must not lock out every other. */
  MAX_PENDING_ORDERS_PER_BUYER: setting.int(5, 1, 1000),
  /** After cancelling, how long before the same buyer may hold that listing again (0: at once); stops a hold renewed forever. */
  REHOLD_COOLDOWN_SECONDS: setting.int(600, 0, 604_800),
  /** How long the first person in a waiting list holds the listing handed to them. */
  WAITLIST_HOLD_SECONDS: setting.int(300, 1, 86_400),
  /** How many people may wait for one listing. */
  WAITLIST_MAX_LENGTH: setting.int(100, 1, 10_000),
  /** How many waiting lists one person may be in at once. */
  WAITLIST_MAX_PER_PERSON: setting.int(10, 1, 1000),
  /** How long a download link of a complete order's file works (15 minutes by default): a leaked one dies soon. */
  DOWNLOAD_LINK_TTL_SECONDS: setting.int(900, 1, 86_400),
  /** How many downloads one link allows. */
  DOWNLOAD_LINK_MAX_USES: setting.int(3, 1, 100),
});

export type OrdersConfig = z.infer<typeof ordersConfigSchema>;

export const loadOrdersConfig = (env?: Record<string, string | undefined>): Readonly<OrdersConfig> => loadConfig(ordersConfigSchema, env);
