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
 * What becomes of a payment with one of Stripe's 3-D Secure test methods once the buyer has
 * authenticated: it is authorized, or Stripe declines it all the same, with the error given.
 */
export type StripeAuthenticationOutcome = { after: 'authorized' } | { after: 'declined'; error: StripeCardError };

/**
 * Stripe's test payment methods that need the buyer (3-D Secure) for a one-off, on-session payment,
 * from Stripe's testing docs ("3D Secure authentication": "Authentication and setup", "Support and
 * availability"). Confirmed with one of these, an intent stops in `requires_action` until the buyer
 * authenticates in Stripe.js; with `error_on_requires_action` Stripe declines it instead
 * (AUTHENTICATION_REQUIRED_DECLINE).
 *
 * Left out on purpose, because a one-off payment with them needs no authentication:
 * - pm_card_authenticationRequiredOnSetup (4000 0025 0000 3155, "Authenticate unless set up"): Stripe's
 *   docs say it "requires authentication for off-session payments unless you set it up for future
 *   payments" — it is about off-session use of a saved card, not about a one-off payment.
 * - pm_card_threeDSecureOptional (4000 0000 0000 3055, "3DS Supported"): 3-D Secure "might still be
 *   performed, but isn't required", and Radar does not request it by default.
 * Nor the 3DS cards that end in a processing error (pm_card_threeDSecureRequiredProcessingError,
 * pm_card_threeDSecureOptionalProcessingError), which the stand-in does not model.
 */
export const STRIPE_AUTHENTICATION_TEST_METHODS: Readonly<Record<string, StripeAuthenticationOutcome>> = {
  // "Always authenticate" (4000 0027 6000 3184): on every transaction, however the card is set up.
  pm_card_authenticationRequired: { after: 'authorized' },
  // "Already set up" (4000 0038 0000 0446): off-session payments pass, one-off and on-session ones need the buyer.
  pm_card_authenticationRequiredSetupForOffSession: { after: 'authorized' },
  // "3DS2 Required" (4000 0000 0000 3220) and "3DS Required" (4000 0000 0000 3063).
  pm_card_threeDSecure2Required: { after: 'authorized' },
  pm_card_threeDSecureRequired: { after: 'authorized' },
  // "Insufficient funds" (4000 0082 6000 3178): authenticated, then declined all the same.
  pm_card_authenticationRequiredChargeDeclinedInsufficientFunds: { after: 'declined', error: insufficientFunds },
  // "3DS Required, Declined" (4000 0084 0000 1629): "declined with a card_declined failure code after authentication".
  pm_card_threeDSecureRequiredChargeDeclined: { after: 'declined', error: generic },
};

/**
 * The card error Stripe answers (402) when a payment created with `error_on_requires_action: true`
 * meets a card that needs the buyer: Stripe declines it rather than stop in requires_action.
 */
export const AUTHENTICATION_REQUIRED_DECLINE: StripeCardError = {
  code: 'authentication_required',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};

/**
 * The error Stripe leaves as `last_payment_error` on an intent whose 3-D Secure the buyer failed or
 * abandoned; the intent goes back to requires_payment_method. It is not a card error (`type` is
 * invalid_request_error, and there is no decline_code nor, as no charge was attempted, a charge).
 *
 * `message` is the API's wording, as Stripe's own iOS and Android SDK fixtures record it from real
 * responses. `buyerMessage` is what Stripe.js answers the buyer's page (confirmCardPayment /
 * handleNextAction), the sentence users of Stripe Elements see; it never appears in the API.
 */
export const AUTHENTICATION_FAILURE = {
  type: 'invalid_request_error',
  code: 'payment_intent_authentication_failure',
  message:
    'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
  buyerMessage: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
} as const;

/**
 * What a decline is recorded as: Stripe's decline_code, or its code where Stripe gives none (an
 * expired card, a wrong CVC, a processing error). Empty counts as none: stripe-node sets
 * `decline_code` to '' on every card error that lacks one.
 */
export function declineCodeOf(error: { code?: string | null | undefined; decline_code?: string | null | undefined }): string {
  return error.decline_code || error.code || 'card_declined';
}
