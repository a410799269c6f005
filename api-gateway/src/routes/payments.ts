import { z } from 'zod';
import { contracts, validate } from '@market/common';
import { forgetListing, type RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

const idempotencyHeaders = z.object({ 'idempotency-key': contracts.idempotencyKey.optional() });

export function paymentRoutes({ rpc, cache, paymentTimeoutMs }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/payments', operationId: 'createPayment', tag: 'payments', access: 'signed-in', summary: 'Pay for a pending order (its buyer only)',
      body: contracts.createPaymentBody,
      headers: idempotencyHeaders,
      success: { status: 201, description: 'The payment and the completed order', schema: contracts.paymentReply },
      problems: [402, 404, 409, 422],
      handle: async ({ token, body, req }) => {
        const { 'idempotency-key': idempotencyKey } = validate(idempotencyHeaders, { 'idempotency-key': req.get('idempotency-key') }, 'headers');
        const reply = await rpc.call<{ order: contracts.Order }>('payments.create', { payment: body, ...(idempotencyKey ? { idempotencyKey } : {}) }, { token, timeoutMs: paymentTimeoutMs });
        await forgetListing(cache, reply.order.listingId);
        return { status: 201, json: reply };
      },
    }),
    defineRoute({
      method: 'get', path: '/payments', operationId: 'listPayments', tag: 'payments', access: 'signed-in', summary: "The caller's payments",
      query: contracts.paymentsQuery,
      success: { status: 200, description: "The caller's payments", schema: z.object({ items: z.array(contracts.payment) }) },
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
      success: { status: 200, description: 'Every coupon', schema: z.object({ items: z.array(contracts.coupon) }) },
      problems: [403],
      handle: async ({ token }) => ({ status: 200, json: await rpc.call('payments.listCoupons', {}, { token }) }),
    }),
  ];
}
