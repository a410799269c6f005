import { randomBytes } from 'node:crypto';
import { AppError } from '@market/common';
import {
  assertValidAuthorizeRequest,
  assertValidIdempotencyKey,
  type AuthorizeRequest,
  type AuthorizeResult,
  type PaymentProvider,
} from './payment-provider';

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

/** Stripe's test payment methods that fail, with the codes and messages Stripe gives for them. */
const DECLINES: Readonly<Record<string, Decline>> = {
  pm_card_chargeDeclined: { declineCode: 'generic_decline', message: 'Your card was declined.' },
  pm_card_visa_chargeDeclined: { declineCode: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  pm_card_chargeDeclinedLostCard: { declineCode: 'lost_card', message: 'Your card was declined.' },
  pm_card_chargeDeclinedStolenCard: { declineCode: 'stolen_card', message: 'Your card was declined.' },
  pm_card_chargeDeclinedExpiredCard: { declineCode: 'expired_card', message: 'Your card has expired.' },
};

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
