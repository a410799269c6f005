import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AppError, problem } from '@market/common';
import {
  assertValidAuthorizeRequest,
  assertValidIdempotencyKey,
  type AuthorizeRequest,
  type AuthorizeResult,
  type IntentState,
  type PaymentProvider,
  type ProviderEvent,
  type RefundState,
} from './payment-provider';
import { AUTHENTICATION_FAILURE, declineCodeOf, STRIPE_AUTHENTICATION_TEST_METHODS, STRIPE_DECLINING_TEST_METHODS } from './stripe-test-cards';

/** The subset of Stripe's PaymentIntent statuses this flow can reach. */
export type SandboxIntentStatus = 'requires_payment_method' | 'requires_action' | 'requires_capture' | 'succeeded' | 'canceled';

export interface SandboxIntent {
  readonly id: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly orderId: string;
  readonly paymentId: string;
  readonly status: SandboxIntentStatus;
  /** As Stripe's: what a browser needs to finish the intent (here: the sandbox's 3-D Secure step). */
  readonly clientSecret: string;
  /** Why it waits for another payment method (a decline, or a failed 3-D Secure challenge). */
  readonly lastError: Decline | null;
  /** Stripe keeps a refunded intent at `succeeded` and records the refund on the charge; so do we. */
  readonly refunded: boolean;
}

export interface SandboxProvider extends PaymentProvider {
  readonly name: 'sandbox';
  /** A snapshot (copies) of every intent created so far, oldest first, for tests and local debugging. */
  intents(): SandboxIntent[];
  /**
   * Stands in for Stripe.js and the buyer in the 3-D Secure challenge: only with the intent's client
   * secret, and only while it waits for the buyer. `complete` authorizes it (or declines it, for
   * Stripe's "authenticate, then decline" card); `fail` leaves it waiting for another payment
   * method, as Stripe does. Returns the event Stripe would send to the webhook.
   */
  authenticate(intentId: string, clientSecret: string, outcome: 'complete' | 'fail'): Promise<{ status: SandboxIntentStatus; event: ProviderEvent }>;
}

interface Decline {
  declineCode: string;
  message: string;
}

/**
 * Stripe's test payment methods that fail, declined with Stripe's words (stripe-test-cards.ts, the
 * table the Stripe stand-in of the tests answers with too), and recorded as the Stripe adapter
 * records them: the decline_code, or the code where Stripe gives none (expired_card, incorrect_cvc,
 * processing_error).
 */
const DECLINES: Readonly<Record<string, Decline>> = Object.fromEntries(
  Object.entries(STRIPE_DECLINING_TEST_METHODS).map(([method, error]) => [
    method,
    { declineCode: declineCodeOf({ code: error.code, decline_code: error.declineCode }), message: error.message },
  ]),
);

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface StoredOutcome {
  fingerprint: string;
  outcome: Outcome;
  storedAt: number;
}

/** How long Stripe keeps an idempotency key's answer; then the key is free again. */
export const SANDBOX_IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

type MutableIntent = { -readonly [K in keyof SandboxIntent]: SandboxIntent[K] };

/** An in-memory stand-in for Stripe test mode, used when no Stripe key is configured. */
export function createSandboxProvider(opts: { now?: () => number } = {}): SandboxProvider {
  const now = opts.now ?? Date.now;
  const intents = new Map<string, MutableIntent>();
  const idempotency = new Map<string, StoredOutcome>();

  /** The key's stored answer while Stripe would still replay it; expired keys are forgotten (and their memory freed). */
  function storedFor(key: string): StoredOutcome | undefined {
    const stored = idempotency.get(key);
    if (stored && now() - stored.storedAt >= SANDBOX_IDEMPOTENCY_KEY_TTL_MS) {
      idempotency.delete(key);
      return undefined;
    }
    return stored;
  }

  /**
   * Like Stripe: a key replays its first outcome (success or error) and never runs the operation
   * again; reusing it for a different operation or different parameters is refused.
   */
  async function once<T>(key: string, fingerprint: string, run: () => T): Promise<T> {
    const stored = storedFor(key);
    if (stored && stored.fingerprint !== fingerprint) {
      throw problem('provider_idempotency_key_reused');
    }
    const outcome = stored?.outcome ?? attempt(run);
    if (!stored) idempotency.set(key, { fingerprint, outcome, storedAt: now() });
    if (!outcome.ok) throw outcome.error;
    return outcome.value as T;
  }

  function find(id: string): MutableIntent {
    const intent = intents.get(id);
    if (!intent) throw problem('payment_not_found');
    return intent;
  }

  function createIntent(req: AuthorizeRequest, status: SandboxIntentStatus, lastError: Decline | null = null): MutableIntent {
    const id = `pi_sandbox_${randomBytes(12).toString('hex')}`;
    const intent: MutableIntent = {
      id,
      amountCents: req.amountCents,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      orderId: req.orderId,
      paymentId: req.paymentId,
      status,
      clientSecret: `${id}_secret_${randomBytes(12).toString('hex')}`,
      lastError,
      refunded: false,
    };
    intents.set(intent.id, intent);
    return intent;
  }

  function authorizeNow(req: AuthorizeRequest): AuthorizeResult {
    const decline = DECLINES[req.paymentMethod];
    if (decline) {
      // Stripe creates the intent even when the card is declined; it waits for another payment method.
      const intent = createIntent(req, 'requires_payment_method', decline);
      return { status: 'declined', providerRef: intent.id, ...decline };
    }
    if (STRIPE_AUTHENTICATION_TEST_METHODS[req.paymentMethod]) {
      const intent = createIntent(req, 'requires_action');
      return { status: 'requires_action', providerRef: intent.id, clientSecret: intent.clientSecret };
    }
    return { status: 'authorized', providerRef: createIntent(req, 'requires_capture').id };
  }

  function authenticateNow(intent: MutableIntent, outcome: 'complete' | 'fail'): void {
    if (intent.status !== 'requires_action') throw unexpectedState('authenticated', intent.status);
    const after = STRIPE_AUTHENTICATION_TEST_METHODS[intent.paymentMethod];
    if (outcome === 'fail') {
      Object.assign(intent, { status: 'requires_payment_method', lastError: { declineCode: declineCodeOf(AUTHENTICATION_FAILURE), message: AUTHENTICATION_FAILURE.message } });
    } else if (after?.after === 'declined') {
      Object.assign(intent, { status: 'requires_payment_method', lastError: { declineCode: declineCodeOf({ code: after.error.code, decline_code: after.error.declineCode }), message: after.error.message } });
    } else {
      intent.status = 'requires_capture';
    }
  }

  function captureNow(id: string): void {
    const intent = find(id);
    if (intent.status === 'succeeded') return;
    if (intent.status !== 'requires_capture') throw unexpectedState('captured', intent.status);
    intent.status = 'succeeded';
  }

  function cancelNow(id: string): void {
    const intent = find(id);
    if (intent.status === 'canceled') return;
    if (intent.status === 'succeeded') throw unexpectedState('cancelled', intent.status);
    intent.status = 'canceled';
  }

  function refundNow(id: string): void {
    const intent = find(id);
    if (intent.status !== 'succeeded') throw unexpectedState('refunded', intent.status);
    intent.refunded = true;
  }

  return {
    name: 'sandbox',

    async authorize(req) {
      assertValidAuthorizeRequest(req);
      assertPaymentMethodId(req.paymentMethod);
      const params = [req.amountCents, req.currency, req.paymentMethod, req.orderId, req.paymentId];
      return once(req.idempotencyKey, fingerprintOf('authorize', params), () => authorizeNow(req));
    },

    /** The sandbox always answers, so this only finds what a caller that lost the answer left. */
    async findAuthorization(req) {
      const live: SandboxIntentStatus[] = ['requires_capture', 'succeeded', 'requires_action'];
      const ofOrder = [...intents.values()].filter((i) => i.orderId === req.orderId).reverse();
      const mine = ofOrder.find((i) => live.includes(i.status) && i.amountCents === req.amountCents && i.currency === req.currency);
      for (const stray of ofOrder) if ((stray.status === 'requires_capture' || stray.status === 'requires_action') && stray !== mine) stray.status = 'canceled';
      if (!mine) return null;
      if (mine.status === 'requires_action') return { status: 'requires_action', providerRef: mine.id, clientSecret: mine.clientSecret };
      return { status: 'authorized', providerRef: mine.id };
    },

    async retrieve(providerRef): Promise<IntentState> {
      const intent = find(providerRef);
      switch (intent.status) {
        case 'requires_action':
          return { status: 'requires_action', clientSecret: intent.clientSecret };
        case 'requires_capture':
          return { status: 'authorized' };
        case 'succeeded':
          return { status: 'captured' };
        case 'canceled':
          return { status: 'canceled', reason: null };
        case 'requires_payment_method':
          return { status: 'declined', declineCode: intent.lastError?.declineCode ?? 'card_declined', message: intent.lastError?.message ?? 'Your card was declined.' };
      }
    },

    async refunds(providerRef): Promise<RefundState> {
      const intent = find(providerRef);
      return { refundedAmount: intent.refunded ? intent.amountCents : 0, pending: false, failure: null };
    },

    async authenticate(intentId, clientSecret, outcome) {
      const intent = intents.get(intentId);
      // Like Stripe.js with a wrong client secret: the intent is not found, whatever the reason.
      if (!intent || !sameSecret(intent.clientSecret, clientSecret)) throw problem('payment_not_found');
      authenticateNow(intent, outcome);
      const type = intent.status === 'requires_capture' ? 'payment_intent.amount_capturable_updated' : 'payment_intent.payment_failed';
      const event: ProviderEvent = { id: `evt_sandbox_${randomBytes(12).toString('hex')}`, type, about: 'intent', intentId: intent.id, paymentId: intent.paymentId };
      return { status: intent.status, event };
    },

    async capture(providerRef, idempotencyKey) {
      assertValidIdempotencyKey(idempotencyKey);
      await once(idempotencyKey, fingerprintOf('capture', providerRef), () => captureNow(providerRef));
    },

    async cancel(providerRef, idempotencyKey) {
      assertValidIdempotencyKey(idempotencyKey);
      await once(idempotencyKey, fingerprintOf('cancel', providerRef), () => cancelNow(providerRef));
    },

    async refund(providerRef, idempotencyKey) {
      assertValidIdempotencyKey(idempotencyKey);
      await once(idempotencyKey, fingerprintOf('refund', providerRef), () => refundNow(providerRef));
    },

    intents() {
      return [...intents.values()].map((intent) => ({ ...intent }));
    },
  };
}

/** Compares secrets in constant time (hashed first, so lengths do not leak either). */
function sameSecret(expected: string, given: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function attempt(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

function fingerprintOf(operation: string, params: unknown): string {
  return JSON.stringify([operation, params]);
}

function assertPaymentMethodId(paymentMethod: string): void {
  if (!paymentMethod.startsWith('pm_')) {
    throw problem('invalid_payment_method');
  }
}

function unexpectedState(action: string, status: SandboxIntentStatus): AppError {
  return problem('payment_intent_unexpected_state', 'step', action, status);
}
