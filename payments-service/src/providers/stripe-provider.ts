import Stripe from 'stripe';
import { type AppError, type contracts, problem } from '@market/common';
import {
  assertValidAuthorizeRequest,
  assertValidIdempotencyKey,
  type AuthorizeRequest,
  type AuthorizeResult,
  type IntentState,
  PaymentOutcomeUnknown,
  type PaymentProvider,
  type ProviderEvent,
  type RefundState,
} from './payment-provider';
import { DEFAULT_STRIPE_TIMING } from './stripe-timing';
import { declineCodeOf } from './stripe-test-cards';

export interface StripeProviderOptions {
  secretKey: string;
  /**
   * Where the API answers. Unset: api.stripe.com. STRIPE_API_BASE sets them for the running service
   * (stripe-mock, say: see stripeEndpointOf), and tests point them at their local fake.
   */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  /** One request's timeout. The service derives it from RPC_TIMEOUT_MS (see stripeTimingOf). */
  timeoutMs?: number;
  /** The SDK's own retries of one request, under the same idempotency key (see stripeTimingOf). */
  maxNetworkRetries?: number;
}

/**
 * The API version stripe@23.1.0 is pinned to, sent with every request. Passed explicitly so that an
 * SDK upgrade cannot move it unnoticed: a release whose pinned version differs no longer type-checks
 * here (the SDK types `apiVersion` as its own pinned version), and the upgrade becomes a decision.
 */
export const STRIPE_API_VERSION = '2026-10-28.endive';

/**
 * STRIPE_API_BASE as the SDK's host, port and protocol, e.g. http://localhost:12111 (stripe-mock).
 * The SDK always sends /v1/... paths, so a base with a path of its own cannot be honoured.
 */
export function stripeEndpointOf(apiBase: string): Required<Pick<StripeProviderOptions, 'host' | 'port' | 'protocol'>> {
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`STRIPE_API_BASE must be an http or https URL, not ${url.protocol}`);
  if (url.pathname !== '/' || url.search || url.hash) throw new Error('STRIPE_API_BASE must be a scheme, host and port only, such as http://localhost:12111');
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
}

/** Stripe's `created` is Stripe's clock, in seconds: reads reach this much further back for skew. */
const CLOCK_SKEW_SECONDS = 60;
/** Pages (of 100, newest first) of recent intents a resumed payment reads before relying on search alone. */
const RESUME_LIST_PAGES = 5;
/** Follow-up reads are one request each: they are counted once in the time budget (stripeTimingOf). */
const ONE_TRY = { maxNetworkRetries: 0 } as const;

type StripeError = InstanceType<typeof Stripe.errors.StripeError>;
type PaymentIntentStatus = Stripe.PaymentIntent.Status;
type Found = Exclude<AuthorizeResult, { status: 'declined' }>;

/**
 * The Stripe adapter. Every step that moves money is sent with an idempotency key, and the SDK
 * repeats a request whose connection failed under the same key. Stripe stores the answer to a key —
 * a 500 too, for 24 h — so repeating a key after a 5xx only repeats the 5xx. When a step ends
 * without a clear answer (5xx, timeout, lost connection, the key still in use), the adapter reads
 * the PaymentIntent back and acts on what it finds instead:
 *
 * - authorize: lists the intents created since the call began and looks for this order's (by
 *   `metadata.orderId`); one holding the amount is the authorization. Nothing found: the outcome is
 *   unknown (PaymentOutcomeUnknown) and the payment waits for the reconciler, which calls
 *   findAuthorization (list and search) before it ever authorizes again, under a new key.
 * - capture / cancel: reads the intent; already captured / cancelled is success. Otherwise unknown,
 *   and the caller may repeat the step under a new key: Stripe captures or cancels an intent once
 *   only, whatever the key.
 * - refund: lists the intent's refunds; a succeeded refund is success, a pending one is not done.
 */
export function createStripeProvider(opts: StripeProviderOptions): PaymentProvider {
  const stripe = new Stripe(opts.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: opts.host,
    port: opts.port,
    protocol: opts.protocol,
    timeout: opts.timeoutMs ?? DEFAULT_STRIPE_TIMING.timeoutMs,
    maxNetworkRetries: opts.maxNetworkRetries ?? DEFAULT_STRIPE_TIMING.maxNetworkRetries,
  });

  /** This order's intents among those created since `since` (newest first, consistent: the list API). */
  async function listedIntentsOf(orderId: string, since: Date, pages: number): Promise<Stripe.PaymentIntent[]> {
    const found: Stripe.PaymentIntent[] = [];
    let startingAfter: string | undefined;
    for (let page = 0; page < pages; page++) {
      const list = await stripe.paymentIntents.list(
        { created: { gte: Math.floor(since.getTime() / 1000) - CLOCK_SKEW_SECONDS }, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) },
        ONE_TRY,
      );
      found.push(...list.data.filter((intent) => intent.metadata?.orderId === orderId));
      startingAfter = list.data.at(-1)?.id;
      if (!list.has_more || !startingAfter) break;
    }
    return found;
  }

  /** This order's intents, whenever created. Stripe's search lags (about a minute) behind writes. */
  async function searchedIntentsOf(orderId: string): Promise<Stripe.PaymentIntent[]> {
    const result = await stripe.paymentIntents.search({ query: `metadata['orderId']:'${searchString(orderId)}'`, limit: 100 }, ONE_TRY);
    return result.data;
  }

  /** Lets go of holds of this order that are not its authorization: one order never holds money twice. */
  async function release(strays: Stripe.PaymentIntent[], req: AuthorizeRequest, cause: unknown): Promise<void> {
    for (const stray of strays) {
      try {
        await tolerateTargetState('canceled', () => stripe.paymentIntents.cancel(stray.id, {}, { idempotencyKey: `${req.idempotencyKey}-release-${stray.id}`, ...ONE_TRY }));
      } catch (err) {
        throw new PaymentOutcomeUnknown(new Error(`could not release hold ${stray.id} of order ${req.orderId}`, { cause: err ?? cause }));
      }
    }
  }

  /** After an unclear create: this call's intent, found among the intents created since it began. */
  async function recoverAuthorization(req: AuthorizeRequest, startedAt: Date, cause: unknown): Promise<Found> {
    let intents: Stripe.PaymentIntent[];
    try {
      intents = await listedIntentsOf(req.orderId, startedAt, 1);
    } catch {
      throw new PaymentOutcomeUnknown(cause);
    }
    const { mine, strays } = holdsOf(intents, req);
    if (!mine) throw new PaymentOutcomeUnknown(cause);
    await release(strays, req, cause);
    return foundOf(mine);
  }

  /**
   * A capture or cancel: done when Stripe says the intent is there already, and after an unclear
   * answer when reading it back finds it there.
   */
  async function moveTo(providerRef: string, target: PaymentIntentStatus, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (err) {
      if (isInState(err, target)) return;
      if (!isUnclear(err)) throw toAppError(err);
      await readBack(providerRef, target, err);
    }
  }

  /** After an unclear capture or cancel: done if the intent sits where the step would have put it. */
  async function readBack(providerRef: string, target: PaymentIntentStatus, cause: unknown): Promise<void> {
    let intent: Stripe.PaymentIntent;
    try {
      intent = await stripe.paymentIntents.retrieve(providerRef, {}, ONE_TRY);
    } catch {
      throw new PaymentOutcomeUnknown(cause);
    }
    if (intent.status === target) return;
    // Captured already (for a cancel) or cancelled already (for a capture, e.g. a lapsed
    // authorization): a final answer, the same as Stripe gives to the step itself.
    if (intent.status === 'succeeded' || intent.status === 'canceled') {
      throw withCause(unexpectedState(), cause);
    }
    throw new PaymentOutcomeUnknown(cause);
  }

  /** The intent's refunds (a full refund is one, a refund that failed and its retry two). */
  async function refundStateAt(providerRef: string): Promise<RefundState> {
    return refundStateOf((await stripe.refunds.list({ payment_intent: providerRef, limit: 100 }, ONE_TRY)).data);
  }

  /** Done only once a refund of the intent has succeeded; a pending one is not done yet. */
  async function assertRefunded(providerRef: string, cause: unknown): Promise<void> {
    let state: RefundState;
    try {
      state = await refundStateAt(providerRef);
    } catch {
      throw new PaymentOutcomeUnknown(cause);
    }
    if (state.refundedAmount > 0) return;
    if (state.pending) throw withCause(refundPending(), cause);
    // No refund went through: the caller may try again, under a new key (a full refund cannot happen twice).
    throw new PaymentOutcomeUnknown(cause);
  }

  return {
    name: 'stripe',

    async authorize(req: AuthorizeRequest): Promise<AuthorizeResult> {
      assertValidAuthorizeRequest(req);
      const startedAt = new Date();
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.create(
          {
            amount: req.amountCents,
            currency: req.currency,
            payment_method: req.paymentMethod,
            confirm: true,
            capture_method: 'manual',
            // The SDK's API version (2026-09-30.endive and later) removed `payment_method_types`;
            // this is its replacement. Cards only, so no redirect-based method can demand a return_url.
            allowed_payment_method_types: ['card'],
            // A card that needs the buyer (3-D Secure) leaves the intent in requires_action with a
            // `use_stripe_sdk` next action: the buyer's browser finishes it with Stripe.js
            // (handleNextAction and the client secret), and the webhook tells us the outcome.
            metadata: { orderId: req.orderId, paymentId: req.paymentId },
          },
          { idempotencyKey: req.idempotencyKey },
        );
      } catch (err) {
        if (err instanceof Stripe.errors.StripeCardError) return toDeclined(err);
        if (isUnclear(err)) return recoverAuthorization(req, startedAt, err);
        throw toAppError(err);
      }
      return toAuthorized(intent);
    },

    async findAuthorization(req: AuthorizeRequest, since: Date): Promise<Found | null> {
      let intents: Stripe.PaymentIntent[];
      try {
        // The list is consistent but bounded to recent intents; search reaches older ones but lags.
        const [listed, searched] = await Promise.all([listedIntentsOf(req.orderId, since, RESUME_LIST_PAGES), searchedIntentsOf(req.orderId)]);
        intents = [...listed, ...searched];
      } catch (err) {
        throw new PaymentOutcomeUnknown(err);
      }
      const { mine, strays, inFlight } = holdsOf(intents, req);
      await release(strays, req, undefined);
      if (mine) return foundOf(mine);
      if (inFlight) throw new PaymentOutcomeUnknown(new Error(`an intent of order ${req.orderId} is still processing`));
      return null;
    },

    async retrieve(providerRef: string): Promise<IntentState> {
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.retrieve(providerRef, {}, ONE_TRY);
      } catch (err) {
        if (isUnclear(err)) throw new PaymentOutcomeUnknown(err);
        throw toAppError(err);
      }
      return intentStateOf(intent);
    },

    async refunds(providerRef: string): Promise<RefundState> {
      try {
        return await refundStateAt(providerRef);
      } catch (err) {
        if (isUnclear(err)) throw new PaymentOutcomeUnknown(err);
        throw toAppError(err);
      }
    },

    async capture(providerRef: string, idempotencyKey: string): Promise<void> {
      assertValidIdempotencyKey(idempotencyKey);
      await moveTo(providerRef, 'succeeded', () => stripe.paymentIntents.capture(providerRef, {}, { idempotencyKey }));
    },

    async cancel(providerRef: string, idempotencyKey: string): Promise<void> {
      assertValidIdempotencyKey(idempotencyKey);
      await moveTo(providerRef, 'canceled', () => stripe.paymentIntents.cancel(providerRef, {}, { idempotencyKey }));
    },

    async refund(providerRef: string, idempotencyKey: string): Promise<void> {
      assertValidIdempotencyKey(idempotencyKey);
      let refund: Stripe.Refund;
      try {
        refund = await stripe.refunds.create({ payment_intent: providerRef }, { idempotencyKey });
      } catch (err) {
        // A refund under another key (e.g. a retry after a 5xx) finds the charge refunded: by which
        // refund, and has that one gone through?
        if ((isStripeError(err) && err.code === 'charge_already_refunded') || isUnclear(err)) return assertRefunded(providerRef, err);
        throw toAppError(err);
      }
      if (refund.status === 'succeeded') return;
      // Not done yet, or an answer replayed under the key, which shows the refund as it was then.
      let current: Stripe.Refund;
      try {
        current = await stripe.refunds.retrieve(refund.id, {}, ONE_TRY);
      } catch (err) {
        throw new PaymentOutcomeUnknown(err);
      }
      if (current.status === 'succeeded') return;
      if (current.status === 'pending' || current.status === 'requires_action') throw refundPending();
      throw withCause(
        problem('refund_failed'),
        new Error(`refund ${current.id} of ${providerRef} is ${current.status}: ${current.failure_reason ?? 'no reason given'}`),
      );
    },
  };
}

function toAuthorized(intent: Stripe.PaymentIntent): AuthorizeResult {
  if (intent.status === 'requires_capture') return { status: 'authorized', providerRef: intent.id };
  if (intent.status === 'requires_action' && intent.client_secret) return { status: 'requires_action', providerRef: intent.id, clientSecret: intent.client_secret };
  if (intent.status === 'processing') throw new PaymentOutcomeUnknown(new Error(`PaymentIntent ${intent.id} is still processing`));
  // With manual capture and a confirmed card no other status should come back; if one does, no
  // money is held and calling it "authorized" would ship goods unpaid.
  throw withCause(problem('payment_provider_error', 'rejected'), new Error(`unexpected PaymentIntent status ${intent.status}`));
}

function toDeclined(err: InstanceType<typeof Stripe.errors.StripeCardError>): AuthorizeResult {
  return {
    status: 'declined',
    providerRef: err.payment_intent?.id ?? null,
    // Stripe leaves decline_code out for e.g. expired_card, and stripe-node then sets it to ''.
    declineCode: declineCodeOf(err),
    message: err.message,
  };
}

/**
 * Which of an order's intents is the authorization of this request — the newest holding its amount
 * (or already captured) — and which other holds of the order are strays: the order's claim is
 * this payment's, so any other hold of it belongs to an attempt that is over.
 */
function holdsOf(intents: Stripe.PaymentIntent[], req: AuthorizeRequest): { mine?: Stripe.PaymentIntent; strays: Stripe.PaymentIntent[]; inFlight: boolean } {
  const unique = [...new Map(intents.filter((i) => i.metadata?.orderId === req.orderId).map((i) => [i.id, i])).values()].sort((a, b) => b.created - a.created);
  const mine = unique.find((i) => LIVE_STATUSES.includes(i.status) && i.amount === req.amountCents && i.currency === req.currency);
  // An intent waiting for its buyer holds nothing yet, but could once authenticated: let it go too.
  const strays = unique.filter((i) => (i.status === 'requires_capture' || i.status === 'requires_action') && i.id !== mine?.id);
  return { mine, strays, inFlight: unique.some((i) => i.status === 'processing') };
}

/** An intent that is, or may yet become, the order's authorization. */
const LIVE_STATUSES: PaymentIntentStatus[] = ['requires_capture', 'succeeded', 'requires_action'];

function foundOf(intent: Stripe.PaymentIntent): Found {
  if (intent.status === 'requires_action' && intent.client_secret) return { status: 'requires_action', providerRef: intent.id, clientSecret: intent.client_secret };
  return { status: 'authorized', providerRef: intent.id };
}

function refundStateOf(refunds: Stripe.Refund[]): RefundState {
  const newest = [...refunds].sort((a, b) => b.created - a.created)[0];
  return {
    refundedAmount: refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0),
    pending: refunds.some((r) => r.status === 'pending' || r.status === 'requires_action'),
    failure: newest?.status === 'failed' ? (newest.failure_reason ?? 'unknown') : null,
  };
}

function intentStateOf(intent: Stripe.PaymentIntent): IntentState {
  switch (intent.status) {
    case 'requires_action':
      return { status: 'requires_action', clientSecret: intent.client_secret ?? '' };
    case 'requires_capture':
      return { status: 'authorized' };
    case 'succeeded':
      return { status: 'captured' };
    case 'canceled':
      return { status: 'canceled', reason: intent.cancellation_reason ?? null };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return { status: 'declined', declineCode: declineCodeOf(error ?? {}), message: error?.message ?? 'Your card was declined.' };
    }
    default:
      // processing, or requires_confirmation (never reached: intents are confirmed as they are created).
      return { status: 'processing' };
  }
}

/** Webhook events of Stripe's that move a payment, read as what they are about. */
const INTENT_EVENTS = new Set([
  'payment_intent.amount_capturable_updated',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
  'payment_intent.processing',
]);
const REFUND_EVENTS = new Set(['charge.refunded', 'charge.refund.updated', 'refund.created', 'refund.updated', 'refund.failed']);

/** Stripe's tolerance by default: a signature older than five minutes is refused (replays). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Verifies a webhook request with the endpoint's signing secret (the SDK's constructEvent: the HMAC
 * of the exact bytes, and a timestamp within the tolerance) and reads what the event is about.
 * Anything else is a 400 that changes nothing.
 */
export function verifyStripeWebhook(rawBody: Buffer, signature: string, secret: string): ProviderEvent {
  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS);
  } catch (err) {
    throw withCause(problem('invalid_signature', 'unverified'), err);
  }
  return stripeEventOf(event);
}

/** What a Stripe event is about; an object without the ids we need is nothing to act on. */
export function stripeEventOf(event: Stripe.Event): ProviderEvent {
  const base = { id: event.id, type: event.type };
  const object = event.data.object as unknown as Record<string, unknown>;
  const intentIdOf = (value: unknown): string | null => (typeof value === 'string' ? value : value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : null);
  if (INTENT_EVENTS.has(event.type) && typeof object.id === 'string') {
    const metadata = object.metadata as Record<string, string> | undefined;
    return { ...base, about: 'intent', intentId: object.id, paymentId: metadata?.paymentId ?? null };
  }
  const intentId = intentIdOf(object.payment_intent);
  if (REFUND_EVENTS.has(event.type) && intentId) return { ...base, about: 'refund', intentId };
  if (event.type === 'charge.dispute.created' && intentId && typeof object.id === 'string') {
    const dispute = { id: object.id, reason: String(object.reason ?? 'unknown'), status: String(object.status ?? 'unknown'), amount: Number(object.amount ?? 0) };
    return { ...base, about: 'dispute', intentId, dispute };
  }
  return { ...base, about: 'nothing' };
}

/** A string inside single quotes in Stripe's search query language. */
const searchString = (value: string): string => value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

/**
 * An answer that does not say whether the step happened: a 5xx (Stripe stores it under the key
 * and replays it), a timeout or lost connection, or a 409 because the key's first request is still
 * running. A 4xx is a final answer: Stripe did not act (card errors excepted, handled apart), and a
 * 429 is refused before the idempotency layer.
 */
function isUnclear(err: unknown): boolean {
  if (!isStripeError(err)) return true;
  if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeAPIError) return true;
  if (err.code === 'idempotency_key_in_use') return true;
  return typeof err.statusCode === 'number' && err.statusCode >= 500;
}

/**
 * Stripe answers payment_intent_unexpected_state when the intent already sits where we want it
 * (a second cancel, or a capture under a new key). The caller's goal is met, so that is success.
 */
function isInState(err: unknown, target: PaymentIntentStatus): boolean {
  return isStripeError(err) && err.code === 'payment_intent_unexpected_state' && err.payment_intent?.status === target;
}

async function tolerateTargetState(target: PaymentIntentStatus, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (isInState(err, target)) return;
    throw toAppError(err);
  }
}

const unexpectedState = (): AppError => problem('payment_intent_unexpected_state', 'any');

const refundPending = (): AppError => problem('refund_pending');

function isStripeError(err: unknown): err is StripeError {
  return err instanceof Stripe.errors.StripeError;
}

/** Maps SDK errors to AppErrors whose detail is safe to show; the SDK error rides along as `cause` for the logs. */
function toAppError(err: unknown): AppError {
  return withCause(classify(err), err);
}

/** Stripe's codes for an amount it will not charge in the currency asked for: the shared check's (contracts/money.ts). */
const AMOUNT_REFUSALS: readonly string[] = ['amount_too_small', 'amount_too_large', 'invalid_charge_amount'] satisfies contracts.AmountProblem['code'][];
const isAmountRefusal = (code: string | undefined): code is contracts.AmountProblem['code'] => AMOUNT_REFUSALS.includes(code ?? '');

function classify(err: unknown): AppError {
  if (err instanceof Stripe.errors.StripeIdempotencyError) {
    return problem('provider_idempotency_key_reused');
  }
  if (!isStripeError(err)) return problem('payment_provider_error', 'rejected');
  if (err.code === 'charge_expired_for_capture') {
    return problem('authorization_expired');
  }
  if (err.code === 'payment_intent_unexpected_state') {
    return unexpectedState();
  }
  if (err.code === 'resource_missing' && err.param === 'payment_method') {
    return problem('invalid_payment_method');
  }
  if (err.code === 'resource_missing') {
    return problem('payment_not_found');
  }
  // Stripe itself refuses the amount or currency (e.g. a charge that falls short of the settlement
  // currency's minimum once converted). Trying again cannot help, so it is a 400 with Stripe's code
  // and words, which name only the amount or currency, like the shared check's — not a 502.
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    if (err.param === 'currency') return problem('invalid_currency', 'stripe', err.message);
    if (isAmountRefusal(err.code)) return problem(err.code, 'stripe', err.message);
  }
  return problem('payment_provider_error', isTransient(err) ? 'unavailable' : 'rejected');
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
