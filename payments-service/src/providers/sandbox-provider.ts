import { randomBytes } from 'node:crypto';
import { AppError } from '@market/common';
import {
  assertValidAuthorizeRequest,
  assertValidIdempotencyKey,
  type AuthorizeRequest,
  type AuthorizeResult,
  type PaymentProvider,
} from './payment-provider';
import { declineCodeOf, STRIPE_DECLINING_TEST_METHODS } from './stripe-test-cards';

/** The subset of Stripe's PaymentIntent statuses this flow can reach. */
export type SandboxIntentStatus = 'requires_payment_method' | 'requires_capture' | 'succeeded' | 'canceled';

export interface SandboxIntent {
  readonly id: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly orderId: string;
  readonly status: SandboxIntentStatus;
  /** Stripe keeps a refunded intent at `succeeded` and records the refund on the charge; so do we. */
  readonly refunded: boolean;
}

export interface SandboxProvider extends PaymentProvider {
  readonly name: 'sandbox';
  /** A snapshot (copies) of every intent created so far, oldest first, for tests and local debugging. */
  intents(): SandboxIntent[];
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
}

type MutableIntent = { -readonly [K in keyof SandboxIntent]: SandboxIntent[K] };

/** An in-memory stand-in for Stripe test mode, used when no Stripe key is configured. */
export function createSandboxProvider(): SandboxProvider {
  const intents = new Map<string, MutableIntent>();
  const idempotency = new Map<string, StoredOutcome>();

  /**
   * Like Stripe: a key replays its first outcome (success or error) and never runs the operation
   * again; reusing it for a different operation or different parameters is refused.
   */
  async function once<T>(key: string, fingerprint: string, run: () => T): Promise<T> {
    const stored = idempotency.get(key);
    if (stored && stored.fingerprint !== fingerprint) {
      throw new AppError(409, 'idempotency_key_reused', 'This payment step was already attempted with different details.');
    }
    const outcome = stored?.outcome ?? attempt(run);
    if (!stored) idempotency.set(key, { fingerprint, outcome });
    if (!outcome.ok) throw outcome.error;
    return outcome.value as T;
  }

  function find(id: string): MutableIntent {
    const intent = intents.get(id);
    if (!intent) throw new AppError(404, 'payment_not_found', 'The payment was not found at the payment provider.');
    return intent;
  }

  function createIntent(req: AuthorizeRequest, status: SandboxIntentStatus): MutableIntent {
    const intent: MutableIntent = {
      id: `pi_sandbox_${randomBytes(12).toString('hex')}`,
      amountCents: req.amountCents,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      orderId: req.orderId,
      status,
      refunded: false,
    };
    intents.set(intent.id, intent);
    return intent;
  }

  function authorizeNow(req: AuthorizeRequest): AuthorizeResult {
    const decline = DECLINES[req.paymentMethod];
    if (decline) {
      // Stripe creates the intent even when the card is declined; it waits for another payment method.
      const intent = createIntent(req, 'requires_payment_method');
      return { status: 'declined', providerRef: intent.id, ...decline };
    }
    return { status: 'authorized', providerRef: createIntent(req, 'requires_capture').id };
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
      const params = [req.amountCents, req.currency, req.paymentMethod, req.orderId];
      return once(req.idempotencyKey, fingerprintOf('authorize', params), () => authorizeNow(req));
    },

    /** The sandbox always answers, so this only finds what a caller that lost the answer left. */
    async findAuthorization(req) {
      const ofOrder = [...intents.values()].filter((i) => i.orderId === req.orderId).reverse();
      const mine = ofOrder.find((i) => (i.status === 'requires_capture' || i.status === 'succeeded') && i.amountCents === req.amountCents && i.currency === req.currency);
      for (const stray of ofOrder) if (stray.status === 'requires_capture' && stray !== mine) stray.status = 'canceled';
      return mine ? { status: 'authorized', providerRef: mine.id } : null;
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
    throw new AppError(400, 'invalid_payment_method', 'The payment method was not recognised. Please use another card.');
  }
}

function unexpectedState(action: string, status: SandboxIntentStatus): AppError {
  return new AppError(409, 'payment_intent_unexpected_state', `The payment cannot be ${action} because its status is ${status}.`);
}
