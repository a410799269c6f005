import { AppError, contracts, problem } from '@market/common';

export interface AuthorizeRequest {
  amountCents: number; // integer > 0
  currency: string; // ISO 4217 lowercase, e.g. 'usd'
  paymentMethod: string; // Stripe payment method id, e.g. 'pm_card_visa'
  idempotencyKey: string; // derived from the order by the caller; the same key must never create a second charge
  orderId: string; // put into Stripe metadata
  paymentId: string; // put into Stripe metadata: a webhook event names the payment it is about
}

export type AuthorizeResult =
  | { status: 'authorized'; providerRef: string } // money held (manual capture), not yet captured
  | { status: 'requires_action'; providerRef: string; clientSecret: string } // the buyer must finish 3-D Secure
  | { status: 'declined'; providerRef: string | null; declineCode: string; message: string };

/** Where a PaymentIntent stands now, as the provider tells it (read back, never taken from a message). */
export type IntentState =
  | { status: 'requires_action'; clientSecret: string }
  | { status: 'authorized' } // requires_capture: money held
  | { status: 'captured' } // succeeded
  | { status: 'processing' }
  | { status: 'declined'; declineCode: string; message: string } // requires_payment_method: a decline, or 3-D Secure failed
  | { status: 'canceled'; reason: string | null };

/** The refunds of a PaymentIntent: how much has been returned, and whether one is under way or failed. */
export interface RefundState {
  refundedAmount: number;
  pending: boolean;
  /** The newest failed refund's reason, when the newest refund failed. */
  failure: string | null;
}

/**
 * A provider event (a Stripe webhook, or the sandbox's stand-in for one), reduced to what it is
 * about. Handlers read the current state back from the provider: events arrive late, twice and out
 * of order, so what an event says is only a reason to look.
 */
export type ProviderEvent = {
  id: string;
  type: string;
} & (
  | { about: 'intent'; intentId: string; paymentId: string | null }
  | { about: 'refund'; intentId: string }
  | { about: 'dispute'; intentId: string; dispute: { id: string; reason: string; status: string; amount: number } }
  | { about: 'nothing' }
);
export interface PaymentProvider {
  readonly name: 'stripe' | 'sandbox';
  /**
   * Create + confirm a PaymentIntent with capture_method 'manual'. Throws PaymentOutcomeUnknown when
   * the provider gave no clear answer and a read-back could not tell whether money is held.
   */
  authorize(req: AuthorizeRequest): Promise<AuthorizeResult>;
  /**
   * For a payment resumed after an authorize that ended without an answer: the intent of this order
   * that holds its money (found by the order id, created since `since`), or null when the provider
   * holds none. Any other hold of the order is let go (cancelled), so that one order never holds the
   * buyer's money twice. Throws when the provider cannot tell.
   */
  findAuthorization(req: AuthorizeRequest, since: Date): Promise<Exclude<AuthorizeResult, { status: 'declined' }> | null>;
  /** The intent as it is now. Throws PaymentOutcomeUnknown when the provider cannot tell. */
  retrieve(providerRef: string): Promise<IntentState>;
  /** The intent's refunds as they are now. Throws PaymentOutcomeUnknown when the provider cannot tell. */
  refunds(providerRef: string): Promise<RefundState>;
  /**
   * Capture a previously authorized intent. Idempotent, and safe to repeat under a new key: an intent
   * can be captured only once, whatever the key. Throws PaymentOutcomeUnknown when it cannot tell.
   */
  capture(providerRef: string, idempotencyKey: string): Promise<void>;
  /** Cancel (void) an authorized, uncaptured intent. Idempotent: cancelling an already cancelled one is fine. */
  cancel(providerRef: string, idempotencyKey: string): Promise<void>;
  /**
   * Refund a captured intent in full. Idempotent. Resolves only once the refund has succeeded: a
   * refund still pending at the provider is a 503 refund_pending, a failed one a 502 refund_failed.
   */
  refund(providerRef: string, idempotencyKey: string): Promise<void>;
}

/**
 * The provider did not say whether a step happened (a 5xx, a timeout, a lost connection) and reading
 * the PaymentIntent back could not tell either. Money may be held: the caller must neither forget
 * the step nor repeat it blindly, but leave the payment for the reconciler.
 */
export class PaymentOutcomeUnknown extends AppError {
  constructor(cause?: unknown) {
    const unanswered = problem('payment_provider_error', 'unavailable');
    super(unanswered.status, unanswered.code, unanswered.detail);
    this.name = 'PaymentOutcomeUnknown';
    if (cause !== undefined) this.cause = cause;
  }
}

/** Stripe rejects longer idempotency keys. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * Both providers run this before touching money, so a caller bug surfaces as a 400 from us
 * instead of Stripe's 400, which would otherwise look like a provider outage (502).
 * The amount and currency follow Stripe's rules (the table in contracts/money.ts), and a refusal
 * carries the code Stripe gives for it (amount_too_small, amount_too_large, invalid_charge_amount):
 * the sandbox answers as Stripe's test mode does, and Stripe never sees an amount it would refuse.
 */
export function assertValidAuthorizeRequest(req: AuthorizeRequest): void {
  if (!Number.isSafeInteger(req.amountCents) || req.amountCents <= 0) {
    throw problem('invalid_amount');
  }
  if (!contracts.isCurrencyCode(req.currency)) {
    throw problem('invalid_currency', 'unsupported', req.currency, contracts.CURRENCY_CODES);
  }
  const refusal = contracts.amountProblem(req.amountCents, req.currency);
  if (refusal) throw problem(refusal.code, 'check', refusal.message);
  assertValidIdempotencyKey(req.idempotencyKey);
}

export function assertValidIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw problem('invalid_idempotency_key', MAX_IDEMPOTENCY_KEY_LENGTH);
  }
}
