import { z } from 'zod';
import { contracts } from '@market/common';
import { forgetListing, type RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

const idempotencyHeaders = z.object({
  'idempotency-key': contracts.idempotencyKey
    .optional()
    .meta({ description: 'Makes a retry safe: a repeat with the same key answers the first result; the same key with a different body is a 422 (`idempotency_key_reused`).' }),
});
const clientConfig = z.object({ stripe: z.object({ publishableKey: z.string() }).nullable() }).meta({ id: 'ClientConfig' });

const WAITING_FOR_BUYER = {
  status: 202,
  description:
    'The card needs its buyer (3-D Secure): the payment is `requires_action` and carries `nextAction`; the order stays pending, held for this payment. ' +
    'Finish it in the browser (Stripe.js, or the sandbox step), then POST /payments/{id}/refresh.',
  schema: contracts.paymentReply,
};

/** 202 while the payment waits for its buyer; the listing changes only once it is sold. */
async function answerPayment(cache: RouteDeps['cache'], reply: contracts.PaymentReply, settledStatus: number): Promise<{ status: number; json: contracts.PaymentReply }> {
  if (reply.payment.status === 'requires_action') return { status: 202, json: reply };
  await forgetListing(cache, reply.order.listingId);
  return { status: settledStatus, json: reply };
}

export function paymentRoutes({ rpc, cache, paymentTimeoutMs, stripePublishableKey }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/payments', operationId: 'createPayment', tag: 'payments', access: 'signed-in', summary: 'Pay for a pending order (its buyer only)',
      body: contracts.createPaymentBody,
      headers: idempotencyHeaders,
      success: { status: 201, description: 'The payment and the completed order', schema: contracts.paymentReply },
      alsoSucceeds: [WAITING_FOR_BUYER],
      problems: [402, 404, 409, 422],
      handle: async ({ token, body, headers: { 'idempotency-key': idempotencyKey } }) => {
        const reply = await rpc.call('payments.create', { payment: body, ...(idempotencyKey ? { idempotencyKey } : {}) }, { token, timeoutMs: paymentTimeoutMs });
        return answerPayment(cache, reply, 201);
      },
    }),
    defineRoute({
      method: 'post', path: '/payments/:id/refresh', operationId: 'refreshPayment', tag: 'payments', access: 'signed-in',
      summary: 'Look at a payment again after the browser finished 3-D Secure (its buyer only)',
      params: contracts.paymentParams,
      success: { status: 200, description: 'The payment went through: the payment and the completed order', schema: contracts.paymentReply },
      alsoSucceeds: [{ ...WAITING_FOR_BUYER, description: 'Still waiting for the buyer (`requires_action`, with `nextAction`)' }],
      problems: [402, 404, 409],
      handle: async ({ token, params }) => answerPayment(cache, await rpc.call('payments.refresh', params, { token, timeoutMs: paymentTimeoutMs }), 200),
    }),
    defineRoute({
      method: 'post', path: '/payments/:id/refund', operationId: 'refundPayment', tag: 'payments', access: 'admin',
      summary: "Refund a completed order's payment in full (admin; idempotent)",
      params: contracts.paymentParams,
      success: { status: 200, description: 'Refunded: the payment is `refunded` and the order `refunded` (the listing stays sold)', schema: contracts.paymentReply },
      alsoSucceeds: [
        {
          status: 202,
          description: 'The refund is under way at the provider (`refundStatus: pending`); the webhook finishes it, and the order follows',
          schema: contracts.paymentReply,
        },
      ],
      problems: [403, 404, 409],
      handle: async ({ token, params }) => {
        const reply = await rpc.call('payments.refund', params, { token, timeoutMs: paymentTimeoutMs });
        return { status: reply.payment.status === 'refunded' ? 200 : 202, json: reply };
      },
    }),
    defineRoute({
      method: 'post', path: '/sandbox/payment-intents/:intentId/authenticate', operationId: 'authenticateSandboxPayment', tag: 'payments', access: 'anyone',
      summary: "The sandbox's stand-in for Stripe.js: pass or fail a 3-D Secure challenge (sandbox only)",
      params: contracts.sandboxIntentParams,
      body: contracts.sandboxAuthenticateBody,
      success: { status: 200, description: "The intent's status after the challenge; the payment settles on its own (or POST /payments/{id}/refresh)", schema: contracts.sandboxIntentReply },
      problems: [404, 409],
      handle: async ({ params, body }) => ({
        status: 200,
        json: await rpc.call('payments.sandboxAuthenticate', { ...params, ...body }, { timeoutMs: paymentTimeoutMs }),
      }),
    }),
    defineRoute({
      method: 'get', path: '/config', operationId: 'getClientConfig', tag: 'payments', access: 'anyone',
      summary: 'What a browser needs to pay: the Stripe publishable key, or null when the sandbox takes payments',
      success: { status: 200, description: 'The public client configuration', schema: clientConfig },
      problems: [],
      handle: async () => ({ status: 200, json: { stripe: stripePublishableKey ? { publishableKey: stripePublishableKey } : null } }),
    }),
    defineRoute({
      method: 'get', path: '/payments', operationId: 'listPayments', tag: 'payments', access: 'signed-in', summary: "The caller's payments",
      query: contracts.paymentsQuery,
      success: { status: 200, description: "A page of the caller's settled payments, newest first", schema: contracts.paymentListReply },
      problems: [],
      handle: async ({ token, query }) => ({ status: 200, json: await rpc.call('payments.list', query, { token }) }),
    }),
    defineRoute({
      method: 'post', path: '/coupons', operationId: 'createCoupon', tag: 'payments', access: 'admin', summary: 'Issue a coupon (admin)',
      body: contracts.createCouponBody,
      success: { status: 201, description: 'The coupon', schema: contracts.couponReply },
      problems: [403, 409],
      handle: async ({ token, body }) => ({ status: 201, json: await rpc.call('payments.createCoupon', body, { token }) }),
    }),
    defineRoute({
      method: 'get', path: '/coupons', operationId: 'listCoupons', tag: 'payments', access: 'admin', summary: 'List coupons (admin)',
      query: contracts.couponsQuery,
      success: { status: 200, description: 'A page of coupons, newest first', schema: contracts.couponListReply },
      problems: [403],
      handle: async ({ token, query }) => ({ status: 200, json: await rpc.call('payments.listCoupons', query, { token }) }),
    }),
  ];
}
