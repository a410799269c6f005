import { z } from 'zod';
import { baseSettings, databaseSettings, loadConfig, setting } from '@market/common';

export const paymentsConfigSchema = z.object({
  ...baseSettings,
  ...databaseSettings,
  METRICS_PORT: setting.port(9103),
  /** Unset (or empty): the built-in sandbox answers like Stripe's test mode and no money moves. */
  STRIPE_SECRET_KEY: setting.optionalString(),
});

export type PaymentsConfig = z.infer<typeof paymentsConfigSchema>;

export const loadPaymentsConfig = (env?: Record<string, string | undefined>): Readonly<PaymentsConfig> => loadConfig(paymentsConfigSchema, env);
