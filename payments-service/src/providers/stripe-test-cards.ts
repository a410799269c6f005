/**
 * Stripe's test payment methods that fail, as Stripe's testing docs list them ("Declined payments"),
 * with the error Stripe answers for each: `code`, `decline_code` (absent for some, e.g. an expired
 * card) and `message`. The sandbox declines these cards with the same words, and the test stand-in
 * for Stripe answers with them on the wire.
 *
 * Stripe accepts each test method with and without the brand (`pm_card_visa_chargeDeclined` and
 * `pm_card_chargeDeclined`); both spellings are listed where Stripe's docs or common use have both.
 */
export interface StripeCardError {
  /** Stripe's `code`: card_declined for an issuer or Radar decline, otherwise the reason itself. */
  readonly code: string;
  /** Stripe's `decline_code`; absent where Stripe leaves it out (expired_card, incorrect_cvc, processing_error). */
  readonly declineCode?: string;
  readonly message: string;
}

const DECLINED = 'Your card was declined.';

const generic: StripeCardError = { code: 'card_declined', declineCode: 'generic_decline', message: DECLINED };
const insufficientFunds: StripeCardError = { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' };
const lostCard: StripeCardError = { code: 'card_declined', declineCode: 'lost_card', message: DECLINED };
const stolenCard: StripeCardError = { code: 'card_declined', declineCode: 'stolen_card', message: DECLINED };
const fraudulent: StripeCardError = { code: 'card_declined', declineCode: 'fraudulent', message: DECLINED };
const velocity: StripeCardError = {
  code: 'card_declined',
  declineCode: 'card_velocity_exceeded',
  message: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.',
};

export const STRIPE_DECLINING_TEST_METHODS: Readonly<Record<string, StripeCardError>> = {
  pm_card_visa_chargeDeclined: generic,
  pm_card_chargeDeclined: generic,
  pm_card_visa_chargeDeclinedInsufficientFunds: insufficientFunds,
  pm_card_chargeDeclinedInsufficientFunds: insufficientFunds,
  pm_card_visa_chargeDeclinedLostCard: lostCard,
  pm_card_chargeDeclinedLostCard: lostCard,
  pm_card_visa_chargeDeclinedStolenCard: stolenCard,
  pm_card_chargeDeclinedStolenCard: stolenCard,
  pm_card_chargeDeclinedExpiredCard: { code: 'expired_card', message: 'Your card has expired.' },
  pm_card_chargeDeclinedIncorrectCvc: { code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  pm_card_chargeDeclinedProcessingError: { code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  pm_card_visa_chargeDeclinedVelocityLimitExceeded: velocity,
  pm_card_chargeDeclinedFraudulent: fraudulent,
  // Radar's "always blocked" card: the same answer as an issuer's fraudulent decline.
  pm_card_radarBlock: fraudulent,
};

/**
 * What a decline is recorded as: Stripe's decline_code, or its code where Stripe gives none (an
 * expired card, a wrong CVC, a processing error). Empty counts as none: stripe-node sets
 * `decline_code` to '' on every card error that lacks one.
 */
export function declineCodeOf(error: { code?: string | null | undefined; decline_code?: string | null | undefined }): string {
  return error.decline_code || error.code || 'card_declined';
}
