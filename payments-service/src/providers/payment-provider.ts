import { AppError } from '@market/common';

export interface AuthorizeRequest {
  amountCents: number; // integer > 0
  currency: string; // ISO 4217 lowercase, e.g. 'usd'
  paymentMethod: string; // Stripe payment method id, e.g. 'pm_card_visa'
  idempotencyKey: string; // derived from the order by the caller; the same key must never create a second charge
  orderId: string; // put into Stripe metadata
}

export type AuthorizeResult =
  | { status: 'authorized'; providerRef: string } // money held (manual capture), not yet captured
  | { status: 'declined'; providerRef: string | null; declineCode: string; message: string };

export interface PaymentProvider {
  readonly name: 'stripe' | 'sandbox';
  /** Create + confirm a PaymentIntent with capture_method 'manual'. */
  authorize(req: AuthorizeRequest): Promise<AuthorizeResult>;
  /** Capture a previously authorized intent. Idempotent. */
  capture(providerRef: string, idempotencyKey: string): Promise<void>;
  /** Cancel (void) an authorized, uncaptured intent. Idempotent: cancelling an already cancelled one is fine. */
  cancel(providerRef: string, idempotencyKey: string): Promise<void>;
  /** Refund a captured intent in full. Idempotent. */
  refund(providerRef: string, idempotencyKey: string): Promise<void>;
}

/** Stripe rejects longer idempotency keys. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * Both providers run this before touching money, so a caller bug surfaces as a 400 from us
 * instead of Stripe's 400, which would otherwise look like a provider outage (502).
 */
export function assertValidAuthorizeRequest(req: AuthorizeRequest): void {
  if (!Number.isSafeInteger(req.amountCents) || req.amountCents <= 0) {
    throw new AppError(400, 'invalid_amount', 'The amount to charge must be a whole number of cents greater than zero.');
  }
  if (!/^[a-z]{3}$/.test(req.currency)) {
    throw new AppError(400, 'invalid_currency', 'The currency must be a three-letter ISO 4217 code in lowercase, such as "usd".');
  }
  assertValidIdempotencyKey(req.idempotencyKey);
}

export function assertValidIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new AppError(400, 'invalid_idempotency_key', `The idempotency key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long.`);
  }
}
