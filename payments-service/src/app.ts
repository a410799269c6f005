import { BackgroundJob, type Logger, type RunningService, startRpcService } from '@market/common';
import { type PaymentsConfig, paymentsProviderOf } from './config';
import { CouponAttemptRepository } from './data-access/coupon-attempt-repository';
import { CouponRepository } from './data-access/coupon-repository';
import { migrations } from './data-access/migrations';
import { createOrdersClient } from './data-access/orders-client';
import { PaymentRepository } from './data-access/payment-repository';
import { ProviderEventRepository } from './data-access/provider-event-repository';
import { forgetOldCouponAttempts } from './domain/forget-old-coupon-attempts';
import type { PaymentsDeps } from './domain/deps';
import { reconcileStalePayments } from './domain/reconcile-payments';
import { servePayments } from './entry-points/rpc';
import { createPaymentProvider, type PaymentProvider, type SandboxProvider } from './providers';

const isSandbox = (provider: PaymentProvider): provider is SandboxProvider => provider.name === 'sandbox' && 'authenticate' in provider;

export interface PaymentsOverrides {
  /** Tests inject a sandbox they can inspect, or the Stripe provider pointed at a fake Stripe. */
  provider?: PaymentProvider;
  reconcile?: {
    /** How often to look for payments left pending (default 30 s). */
    everyMs?: number;
    /**
     * How long a payment must have been untouched before it counts as abandoned (default 5 min).
     * Longer than a request can take — orders RPCs plus the Stripe SDK's timeouts and retries — so
     * that the reconciler does not duplicate the work of a request still in progress.
     */
    staleAfterMs?: number;
  };
}

const RECONCILE_EVERY_MS = 30_000;
/** Stripe redelivers an event for up to 3 days: its id is remembered for longer. */
const PROVIDER_EVENTS_KEPT_MS = 30 * 24 * 3600_000;
const STALE_AFTER_MS = 5 * 60_000;

export function startPaymentsService(config: Readonly<PaymentsConfig>, logger?: Logger, overrides: PaymentsOverrides = {}): Promise<RunningService> {
  return startRpcService({
    name: 'payments-service',
    database: 'payments',
    config,
    migrations,
    ...(logger ? { logger } : {}),
    wire: (parts) => {
      const provider =
        overrides.provider ??
        createPaymentProvider({
          provider: paymentsProviderOf(config),
          stripeSecretKey: config.STRIPE_SECRET_KEY,
          stripeApiBase: config.STRIPE_API_BASE,
          rpcTimeoutMs: config.RPC_TIMEOUT_MS,
        });
      if (config.NODE_ENV === 'production' && provider.name === 'sandbox') {
        // Chosen explicitly (the configuration insists in production), but worth a line in every log.
        parts.logger.warn('PAYMENTS_PROVIDER=sandbox: payments use the built-in sandbox and no real money is charged');
      }
      if (provider.name === 'stripe' && config.STRIPE_API_BASE && !overrides.provider) {
        // A stand-in such as stripe-mock: fine for rehearsals, never what production should talk to.
        const message = `STRIPE_API_BASE=${config.STRIPE_API_BASE}: Stripe requests go there instead of api.stripe.com`;
        if (config.NODE_ENV === 'production') parts.logger.warn(message);
        else parts.logger.info(message);
      }
      const deps: PaymentsDeps = {
        db: parts.db,
        outbox: parts.outbox,
        logger: parts.logger,
        payments: new PaymentRepository(parts.db),
        coupons: new CouponRepository(parts.db),
        couponAttempts: new CouponAttemptRepository(parts.db),
        couponAttemptLimits: { maxFailures: config.COUPON_FAILURES_MAX, windowSeconds: config.COUPON_FAILURES_WINDOW_SECONDS },
        orders: createOrdersClient(parts.rpcClient),
        provider,
        ...(isSandbox(provider) ? { sandbox: provider } : {}),
        providerEvents: new ProviderEventRepository(parts.db),
        ...(config.STRIPE_WEBHOOK_SECRET ? { webhookSecret: config.STRIPE_WEBHOOK_SECRET } : {}),
      };
      servePayments(parts.rpc, deps);
      scheduleReconciler(deps, overrides.reconcile ?? {}, parts.onStop);
    },
  });
}

/** Background rounds: settle payments left pending, then clear coupon attempts and provider events that no longer count. */
function scheduleReconciler(deps: PaymentsDeps, opts: NonNullable<PaymentsOverrides['reconcile']>, onStop: (fn: () => Promise<void>) => void): void {
  const reconciler = new BackgroundJob({
    name: 'payment reconciliation',
    logger: deps.logger,
    intervalMs: opts.everyMs ?? RECONCILE_EVERY_MS,
    run: async () => {
      await reconcileStalePayments(deps, opts.staleAfterMs ?? STALE_AFTER_MS);
      await forgetOldCouponAttempts(deps);
      await deps.providerEvents.forgetOlderThan(new Date(Date.now() - PROVIDER_EVENTS_KEPT_MS));
    },
  });
  // The first round after one period: at start-up no payment has been untouched for long yet.
  reconciler.start({ runNow: false });
  onStop(() => reconciler.stop());
}
