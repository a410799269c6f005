import { z } from 'zod';
import { baseSettings, keySettings, loadConfig, setting } from '@market/common';

export const gatewayConfigSchema = z
  .object({
    ...baseSettings,
    ...keySettings,
    PORT: setting.port(8080),
    /** Internal port for /metrics, /healthz and /readyz; never published. */
    METRICS_PORT: setting.port(9100),
    USERS_SERVICE_URL: setting.url('http://localhost:3001', ['http:', 'https:']),
    REDIS_URL: setting.url('redis://localhost:6379', ['redis:', 'rediss:']),
    RATE_LIMIT_MAX: setting.int(5, 1, 1_000_000_000),
    RATE_LIMIT_WINDOW_MS: setting.int(10_000, 100, 86_400_000),
    /** `false`, `true` (trust every proxy: only behind one you control) or the number of proxy hops. */
    TRUST_PROXY: z
      .string()
      .default('false')
      .refine((v) => /^(true|false|\d{1,2})$/.test(v), 'must be true, false or a number of proxy hops')
      .transform((v): boolean | number => (v === 'true' ? true : v === 'false' ? false : Number(v))),
    CACHE_TTL_SECONDS: setting.int(60, 0, 86_400),
    /**
     * Stripe's webhooks are not one client among others (the per-client limit would drop a burst of
     * events), but they are bounded too: this many requests per window, for all senders together.
     */
    WEBHOOK_RATE_LIMIT_MAX: setting.int(600, 1, 1_000_000_000),
    WEBHOOK_RATE_LIMIT_WINDOW_MS: setting.int(10_000, 100, 86_400_000),
    /** Stripe's publishable key (pk_…), given to browsers by GET /config for Stripe.js. Unset: the sandbox's card form. */
    STRIPE_PUBLISHABLE_KEY: setting
      .optionalString()
      .refine((v) => v === undefined || /^pk_(test|live)_[A-Za-z0-9]{8,}$/.test(v), 'must be a Stripe publishable key such as pk_test_…'),
    USERS_TIMEOUT_MS: setting.int(5000, 100, 120_000),
    /**
     * GET /events (live listing changes): a `: heartbeat` comment this often on every open stream, which
     * keeps proxies from closing an idle one and renews the stream's place in its client's count.
     */
    SSE_HEARTBEAT_MS: setting.int(15_000, 100, 300_000),
    /** Open event streams one client address may hold across all replicas; the next is a 429. */
    SSE_MAX_PER_CLIENT: setting.int(4, 1, 1000),
    /** Open event streams one replica serves; the next is a 503 (the load balancer's turn to choose another). */
    SSE_MAX_CONNECTIONS: setting.int(10_000, 1, 1_000_000),
    /** Changes kept in Redis for a reconnecting client's `Last-Event-ID` (about this many, newest first). */
    SSE_BACKLOG: setting.int(1000, 10, 1_000_000),
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (env?: Record<string, string | undefined>): Readonly<GatewayConfig> => loadConfig(gatewayConfigSchema, env);
