import { z } from 'zod';
import { id, isoTimestamp, pageOf, pageQuery } from './common';
import { MINIMUM_EXAMPLES, minorUnits } from './money';
import { order } from './orders';

export const PAYMENT_STATUSES = ['requires_action', 'succeeded', 'failed', 'refunded'] as const;

/** What a browser does to finish a payment that needs the buyer (3-D Secure). */
export const NEXT_ACTION_TYPES = ['use_stripe_sdk', 'sandbox_authenticate'] as const;

const couponCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9_-]{3,40}$/, 'must be 3-40 letters, digits, _ or -');

/** What a coupon does to the amount charged (coupon-rules.ts in payments-service); documented on every coupon field. */
export const COUPON_RULE =
  'A coupon takes percentOff % off the price: the discount is rounded down to the minor unit, so the buyer never pays less than the percentage says. ' +
  `What is left is never an amount Stripe refuses: between 0 and the currency's minimum charge (${MINIMUM_EXAMPLES}, …) it is raised to that minimum, ` +
  'never above the price, and in bhd, jod, kwd and omr it is rounded up to a multiple of 10. Only a 100% coupon makes the order free: nothing is charged and no paymentMethod is needed.';

export const createPaymentBody = z
  .object({
    orderId: id,
    paymentMethod: z.string().regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'must be a payment method id such as pm_card_visa').optional(),
    couponCode: couponCode.optional().meta({ description: COUPON_RULE }),
  })
  .strict()
  .meta({
    id: 'CreatePaymentRequest',
    description: '`paymentMethod` is required unless a coupon covers the whole price (`payment_method_required` otherwise).',
    examples: [{ orderId: '5b1d7c3e-2f4a-4c8b-9e61-7d2a0f3b9c44', paymentMethod: 'pm_card_visa' }],
  });
export const paymentsQuery = z.object({ ...pageQuery, orderId: id.optional() }).strict();
export const couponsQuery = z.object(pageQuery).strict();
export const idempotencyKey = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits or _.:-');

export const createCouponBody = z
  .object({
    code: couponCode.optional(),
    percentOff: z.number().int('must be a whole number').min(1).max(100).meta({ description: COUPON_RULE }),
    maxRedemptions: z.number().int().min(1).max(1_000_000).optional(),
    expiresAt: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 timestamp' })
      .optional()
      .meta({ description: 'When it stops working; must be in the future (`coupon_expiry_in_past` otherwise). None: it never expires.' }),
  })
  .strict()
  .meta({ id: 'CreateCouponRequest', examples: [{ code: 'SPRING-25', percentOff: 25, maxRedemptions: 100 }] });

export const payment = z.object({
  id,
  orderId: id,
  amountCents: minorUnits('What was charged: the price less any coupon (0 when a 100% coupon paid it)'),
  currency: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  provider: z.enum(['stripe', 'sandbox']),
  providerRef: z.string().nullable(),
  couponCode: z.string().optional(),
  nextAction: z
    .object({
      type: z.enum(NEXT_ACTION_TYPES),
      clientSecret: z.string(),
    })
    .optional()
    .meta({
      description:
        'Only in `requires_action`, and only in the answers of POST /payments and POST /payments/{id}/refresh: how the buyer finishes 3-D Secure. ' +
        '`use_stripe_sdk`: call Stripe.js `stripe.handleNextAction({ clientSecret })` with the publishable key from GET /config. ' +
        '`sandbox_authenticate`: the sandbox stands in for Stripe.js: POST /sandbox/payment-intents/{providerRef}/authenticate with this clientSecret. ' +
        'Then POST /payments/{id}/refresh (the server also learns the outcome from the provider by itself).',
    }),
  refundStatus: z.enum(['pending', 'succeeded', 'failed']).optional().meta({ description: 'Once a refund was asked for: where it stands at the provider' }),
  disputeStatus: z.string().optional().meta({ description: "Once the buyer disputed the charge with their bank: the dispute's status at the provider" }),
  createdAt: isoTimestamp,
}).meta({ id: 'Payment' });
export type Payment = z.infer<typeof payment>;
export const paymentReply = z.object({ payment, order }).meta({ id: 'PaymentReply' });
export type PaymentReply = z.infer<typeof paymentReply>;
export const paymentListReply = pageOf(payment).meta({ id: 'PaymentPage' });

export const coupon = z.object({
  id,
  code: z.string(),
  percentOff: z.number().int(),
  maxRedemptions: z.number().int().nullable(),
  redemptions: z.number().int(),
  expiresAt: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
}).meta({ id: 'Coupon' });
export type Coupon = z.infer<typeof coupon>;
export const couponReply = z.object({ coupon }).meta({ id: 'CouponReply' });
export const couponListReply = pageOf(coupon).meta({ id: 'CouponPage' });

/** A PaymentIntent id as Stripe (or the sandbox) writes it. */
export const providerRef = z.string().regex(/^pi_[A-Za-z0-9_]{1,200}$/, 'must be a PaymentIntent id such as pi_123');
export const paymentParams = z.object({ id }).strict();
export const sandboxIntentParams = z.object({ intentId: providerRef }).strict();
export const sandboxAuthenticateBody = z
  .object({
    clientSecret: z.string().min(1).max(300),
    outcome: z.enum(['complete', 'fail']).meta({ description: "The buyer's answer in the 3-D Secure challenge: pass it, or fail it" }),
  })
  .strict()
  .meta({ id: 'SandboxAuthenticateRequest', examples: [{ clientSecret: 'pi_123_secret_456', outcome: 'complete' }] });
export const sandboxIntentReply = z.object({ status: z.string().meta({ description: "The PaymentIntent's status after the challenge" }) }).meta({ id: 'SandboxIntentReply' });

/** The raw webhook request as the gateway received it: the signature covers the exact bytes. */
export const stripeWebhook = z
  .object({
    /** The body, base64: re-encoding JSON would change the bytes the signature covers. */
    body: z.base64().max(1_400_000),
    signature: z.string().max(2000),
  })
  .strict();
/** What became of a verified webhook's event: acted on, seen before (Stripe delivers again), or of no interest. */
export const stripeWebhookReply = z.object({ received: z.literal(true), outcome: z.enum(['handled', 'duplicate', 'ignored']) });

export const paymentsRpc = {
  create: z.object({ payment: createPaymentBody, idempotencyKey: idempotencyKey.optional() }).strict(),
  refresh: paymentParams,
  refund: paymentParams,
  stripeWebhook,
  sandboxAuthenticate: sandboxIntentParams.extend(sandboxAuthenticateBody.shape).strict(),
  list: paymentsQuery,
  createCoupon: createCouponBody,
  listCoupons: couponsQuery,
};
