import Stripe from 'stripe';
import { AppError } from '@market/common';
import {
  assertValidAuthorizeRequest,
  assertValidIdempotencyKey,
  type AuthorizeRequest,
  type AuthorizeResult,
  type PaymentProvider,
} from './payment-provider';

export interface StripeProviderOptions {
  secretKey: string;
  /** host/port/protocol exist so tests can point the SDK at a local fake; production leaves them unset. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  timeoutMs?: number;
  /** Tests lower this to fail fast; production keeps the default. */
  maxNetworkRetries?: number;
}

/** Confirming a card can take a few seconds; the SDK's 80 s default would hold an order saga far too long. */
const DEFAULT_TIMEOUT_MS = 20_000;
/** The SDK resends with the same idempotency key, so a retry can never create a second charge. */
const DEFAULT_MAX_NETWORK_RETRIES = 2;

const UNAVAILABLE_DETAIL = 'The payment provider is not answering right now. Please try again in a moment.';
const REJECTED_DETAIL = 'The payment provider could not process this request. Please try again later.';

type StripeError = InstanceType<typeof Stripe.errors.StripeError>;
type PaymentIntentStatus = Stripe.PaymentIntent.Status;

export function createStripeProvider(opts: StripeProviderOptions): PaymentProvider {
  const stripe = new Stripe(opts.secretKey, {
    host: opts.host,
    port: opts.port,
    protocol: opts.protocol,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxNetworkRetries: opts.maxNetworkRetries ?? DEFAULT_MAX_NETWORK_RETRIES,
  });

  return {
    name: 'stripe',

    async authorize(req: AuthorizeRequest): Promise<AuthorizeResult> {
      assertValidAuthorizeRequest(req);
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.create(
          {
            amount: req.amountCents,
            currency: req.currency,
            payment_method: req.paymentMethod,
            confirm: true,
            capture_method: 'manual',
            // SDK v23 (API 2026-09-30.endive) removed `payment_method_types`; this is its replacement.
            // Cards only, so no redirect-based method can demand a return_url.
            allowed_payment_method_types: ['card'],
            // No shopper is on hand to complete 3-D Secure, so Stripe should decline (a card error)
            // rather than park the intent in requires_action where nothing would ever finish it.
            error_on_requires_action: true,
            metadata: { orderId: req.orderId },
          },
          { idempotencyKey: req.idempotencyKey },
        );
      } catch (err) {
        if (err instanceof Stripe.errors.StripeCardError) return toDeclined(err);
        throw toAppError(err);
      }
      return toAuthorized(intent);
    },

    async capture(providerRef: string, idempotencyKey: string): Promise<void> {
      assertValidIdempotencyKey(idempotencyKey);
      await tolerateTargetState('succeeded', () => stripe.paymentIntents.capture(providerRef, {}, { idempotencyKey }));
    },

    async cancel(providerRef: string, idempotencyKey: string): Promise<void> {
      assertValidIdempotencyKey(idempotencyKey);
      await tolerateTargetState('canceled', () => stripe.paymentIntents.cancel(providerRef, {}, { idempotencyKey }));
    },

    async refund(providerRef: string, idempotencyKey: string): Promise<void> {
      assertValidIdempotencyKey(idempotencyKey);
      try {
        await stripe.refunds.create({ payment_intent: providerRef }, { idempotencyKey });
      } catch (err) {
        // A refund under a different key (e.g. after the 24 h key expiry) finds the money already returned.
        if (isStripeError(err) && err.code === 'charge_already_refunded') return;
        throw toAppError(err);
      }
    },
  };
}

function toAuthorized(intent: Stripe.PaymentIntent): AuthorizeResult {
  if (intent.status === 'requires_capture') return { status: 'authorized', providerRef: intent.id };
  // With manual capture and error_on_requires_action no other status should come back; if one
  // does, no money is held and calling it "authorized" would ship goods unpaid.
  throw withCause(new AppError(502, 'payment_provider_error', REJECTED_DETAIL), new Error(`unexpected PaymentIntent status ${intent.status}`));
}

function toDeclined(err: InstanceType<typeof Stripe.errors.StripeCardError>): AuthorizeResult {
  return {
    status: 'declined',
    providerRef: err.payment_intent?.id ?? null,
    // decline_code is typed as always present but Stripe omits it for e.g. expired_card.
    declineCode: err.decline_code ?? err.code ?? 'card_declined',
    message: err.message,
  };
}

/**
 * Stripe answers payment_intent_unexpected_state when the intent already sits where we want it
 * (a second cancel, or a capture under a new key). The caller's goal is met, so that is success.
 */
async function tolerateTargetState(target: PaymentIntentStatus, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (isStripeError(err) && err.code === 'payment_intent_unexpected_state' && err.payment_intent?.status === target) return;
    throw toAppError(err);
  }
}

function isStripeError(err: unknown): err is StripeError {
  return err instanceof Stripe.errors.StripeError;
}

/** Maps SDK errors to AppErrors whose detail is safe to show; the SDK error rides along as `cause` for the logs. */
function toAppError(err: unknown): AppError {
  return withCause(classify(err), err);
}

function classify(err: unknown): AppError {
  if (err instanceof Stripe.errors.StripeIdempotencyError) {
    return new AppError(409, 'idempotency_key_reused', 'This payment step was already attempted with different details.');
  }
  if (!isStripeError(err)) return new AppError(502, 'payment_provider_error', REJECTED_DETAIL);
  if (err.code === 'payment_intent_unexpected_state') {
    return new AppError(409, 'payment_intent_unexpected_state', 'The payment is not in a state that allows this step.');
  }
  if (err.code === 'resource_missing' && err.param === 'payment_method') {
    return new AppError(400, 'invalid_payment_method', 'The payment method was not recognised. Please use another card.');
  }
  if (err.code === 'resource_missing') {
    return new AppError(404, 'payment_not_found', 'The payment was not found at the payment provider.');
  }
  return new AppError(502, 'payment_provider_error', isTransient(err) ? UNAVAILABLE_DETAIL : REJECTED_DETAIL);
}

function isTransient(err: StripeError): boolean {
  return (
    err instanceof Stripe.errors.StripeConnectionError ||
    err instanceof Stripe.errors.StripeRateLimitError ||
    err instanceof Stripe.errors.StripeAPIError
  );
}

function withCause(appError: AppError, cause: unknown): AppError {
  appError.cause = cause;
  return appError;
}
