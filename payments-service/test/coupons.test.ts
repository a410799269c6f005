import { client } from '../../test/support/http';
import { eventually, until } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { createSandboxProvider, type SandboxProvider } from '../src/providers';
import { type Api, checkout, couponRedemptions, intentsOf, type IssuedCoupon, issueCoupon, pay, signInAdmin, startPaymentsStack } from './payments-stack';

describe('coupons', () => {
  let stack: Stack;
  let api: Api;
  let sandbox: SandboxProvider;
  let adminToken: string;

  beforeAll(async () => {
    sandbox = createSandboxProvider();
    stack = await startPaymentsStack({ provider: sandbox });
    api = client(stack);
    adminToken = (await signInAdmin(api)).accessToken;
  });
  afterAll(() => stack?.stop());

  const uniqueCode = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 10).toUpperCase()}`;

  const createCoupon = (body: Record<string, unknown>): Promise<IssuedCoupon> => issueCoupon(api, adminToken, body);
  const redemptionsOf = (code: string): Promise<number> => couponRedemptions(api, adminToken, code);

  describe('issuing', () => {
    test('only an admin can create a coupon: anyone else gets 403', async () => {
      const user = await api.signUp();

      const res = await api.post('/coupons', { percentOff: 10 }, user.accessToken);

      expect(res.status).toBe(403);
      const listed = await api.get('/coupons', user.accessToken);
      expect(listed.status).toBe(403);
    });

    test('payments-service itself refuses coupon requests from a non-admin, whatever the caller', async () => {
      const user = await api.signUp();
      const asUser = { token: user.accessToken };

      const created = await stack.gateway.rpc.call('payments.createCoupon', { percentOff: 100 }, asUser).catch((err: unknown) => err);
      const listed = await stack.gateway.rpc.call('payments.listCoupons', {}, asUser).catch((err: unknown) => err);

      expect(created).toMatchObject({ status: 403, code: 'forbidden' });
      expect(listed).toMatchObject({ status: 403, code: 'forbidden' });
    });

    test('an admin creates a coupon and gets a generated code when none is given', async () => {
      const res = await api.post('/coupons', { percentOff: 15 }, adminToken);

      expect(res.status).toBe(201);
      expect(res.body.coupon).toEqual({
        id: expect.any(String),
        code: expect.stringMatching(/^[A-Z0-9]{10}$/),
        percentOff: 15,
        maxRedemptions: null,
        redemptions: 0,
        expiresAt: null,
        createdAt: expect.any(String),
      });
    });

    test('an admin can choose the code, which is stored in upper case; a taken code is 409 coupon_code_taken', async () => {
      const code = uniqueCode('summer');
      const expiresAt = new Date(Date.now() + 86_400_000).toISOString();

      const first = await api.post('/coupons', { code, percentOff: 20, maxRedemptions: 5, expiresAt }, adminToken);
      const second = await api.post('/coupons', { code: code.toUpperCase(), percentOff: 30 }, adminToken);

      expect(first.status).toBe(201);
      expect(first.body.coupon).toMatchObject({ code: code.toUpperCase(), percentOff: 20, maxRedemptions: 5, expiresAt });
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('coupon_code_taken');
    });

    test.each([0, 101, 12.5])('percentOff %p is refused with a 400', async (percentOff) => {
      const res = await api.post('/coupons', { percentOff }, adminToken);

      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'percentOff' })]);
    });

    test('a coupon that would already be expired is refused with a 400', async () => {
      const res = await api.post('/coupons', { percentOff: 10, expiresAt: new Date(Date.now() - 1000).toISOString() }, adminToken);

      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'coupon_expiry_in_past', errors: [{ field: 'expiresAt' }] });
    });

    test('an admin lists every coupon', async () => {
      const coupon = await createCoupon({ percentOff: 40 });

      const res = await api.get('/coupons?limit=100', adminToken);

      expect(res.status).toBe(200);
      expect(res.body.items).toContainEqual(coupon);
    });
  });

  describe('paying with a coupon', () => {
    test('a 100% coupon completes the order with amountCents 0 and no call to the provider', async () => {
      const coupon = await createCoupon({ percentOff: 100 });
      const { buyer, listing, order } = await checkout(api, 2500);

      const res = await pay(api, buyer, { orderId: order.id, couponCode: coupon.code });

      expect(res.status).toBe(201);
      expect(res.body.payment).toMatchObject({ amountCents: 0, status: 'succeeded', provider: 'sandbox', providerRef: null, couponCode: coupon.code });
      expect(res.body.order.status).toBe('complete');
      expect(intentsOf(sandbox, order.id)).toHaveLength(0);
      expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).body.listing.status === 'sold')).toBe(true);
    });

    test('a 50% coupon charges half the price, the discount rounded down to the cent', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const { buyer, order } = await checkout(api, 2501);

      // Codes are matched whatever their case.
      const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code.toLowerCase() });

      expect(res.status).toBe(201);
      expect(res.body.payment).toMatchObject({ amountCents: 1251, couponCode: coupon.code });
      expect(intentsOf(sandbox, order.id)).toEqual([expect.objectContaining({ amountCents: 1251, status: 'succeeded' })]);
    });

    /** The one answer every unusable coupon gets, whatever the reason. */
    const UNUSABLE = {
      status: 400,
      code: 'coupon_invalid',
      detail: 'This coupon code cannot be used. Check the code, or pay without it.',
      errors: [{ field: 'couponCode', message: 'is not a coupon that can be used now' }],
    };

    test('an unknown coupon is refused with coupon_invalid, charges nothing and leaves the order payable', async () => {
      const { buyer, order } = await checkout(api);

      const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: 'NO-SUCH-COUPON' });

      expect(res.body).toMatchObject(UNUSABLE);
      expect(intentsOf(sandbox, order.id)).toHaveLength(0);
      expect((await api.get(`/orders/${order.id}`, buyer.accessToken)).body.order.status).toBe('pending');
    });

    test('an expired coupon gets the same answer as an unknown one, and the order stays payable', async () => {
      const coupon = await createCoupon({ percentOff: 10, expiresAt: new Date(Date.now() + 1000).toISOString() });
      const { buyer, order } = await checkout(api);
      await until(coupon.expiresAt as string, 100);

      const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(res.body).toMatchObject(UNUSABLE);
      expect(intentsOf(sandbox, order.id)).toHaveLength(0);
      expect(await redemptionsOf(coupon.code)).toBe(0);
      expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);
    });

    test('a used-up coupon gets the same answer as an unknown one and takes no redemption', async () => {
      const coupon = await createCoupon({ percentOff: 10, maxRedemptions: 1 });
      const first = await checkout(api);
      const second = await checkout(api);
      expect((await pay(api, first.buyer, { orderId: first.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code })).status).toBe(201);

      const res = await pay(api, second.buyer, { orderId: second.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(res.body).toMatchObject(UNUSABLE);
      expect(intentsOf(sandbox, second.order.id)).toHaveLength(0);
      expect(await redemptionsOf(coupon.code)).toBe(1);
      expect((await api.get(`/orders/${second.order.id}`, second.buyer.accessToken)).body.order.status).toBe('pending');
    });

    test('unknown, used-up and expired coupons cannot be told apart by their answers', async () => {
      const usedUp = await createCoupon({ percentOff: 10, maxRedemptions: 1 });
      const expiring = await createCoupon({ percentOff: 10, expiresAt: new Date(Date.now() + 1000).toISOString() });
      const first = await checkout(api);
      expect((await pay(api, first.buyer, { orderId: first.order.id, paymentMethod: 'pm_card_visa', couponCode: usedUp.code })).status).toBe(201);
      await until(expiring.expiresAt as string, 100);
      const { buyer, order } = await checkout(api);

      const answers = [];
      for (const couponCode of [uniqueCode('NOPE'), usedUp.code, expiring.code]) {
        const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode });
        const { requestId: _differsPerRequest, ...problem } = res.body;
        answers.push({ status: res.status, contentType: res.headers.get('content-type'), problem });
      }

      expect(answers[0]?.problem).toMatchObject(UNUSABLE);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });

    test('buyers racing for the last redemption: exactly one gets the discount', async () => {
      const coupon = await createCoupon({ code: uniqueCode('LAST'), percentOff: 50, maxRedemptions: 1 });
      const checkouts = await Promise.all([1, 2, 3, 4].map(() => checkout(api, 2000)));

      const results = await Promise.all(checkouts.map((c) => pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code })));

      const winners = results.filter((r) => r.status === 201);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.body.payment.amountCents).toBe(1000);
      expect(results.filter((r) => r.status !== 201).map((r) => [r.status, r.body.code])).toEqual([
        [400, 'coupon_invalid'],
        [400, 'coupon_invalid'],
        [400, 'coupon_invalid'],
      ]);
      const listed = await api.get('/coupons?limit=100', adminToken);
      expect(listed.body.items.find((c: { code: string }) => c.code === coupon.code)).toMatchObject({ redemptions: 1 });
    });

    test('a declined payment gives its redemption back, so the coupon still works for the next attempt', async () => {
      const coupon = await createCoupon({ code: uniqueCode('ONCE'), percentOff: 25, maxRedemptions: 1 });
      const { buyer, order } = await checkout(api, 4000);
      const redemptions = (): Promise<number> => redemptionsOf(coupon.code);

      const declined = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_chargeDeclined', couponCode: coupon.code });

      expect(declined.status).toBe(402);
      expect(await redemptions()).toBe(0);

      const paid = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(paid.status).toBe(201);
      expect(paid.body.payment.amountCents).toBe(3000);
      expect(await redemptions()).toBe(1);
    });
  });

  describe("coupons and the smallest charge Stripe accepts (the currency's minimum)", () => {
    test.each([
      [2000, 99, 20, 50],
      [4900, 99, 49, 50],
      [60, 50, 30, 50],
      [50, 90, 5, 50],
      [2500, 98, 50, 50],
    ])('a %i-cent price with a %i%% coupon leaves %i cents: the buyer pays %i, never more than the price', async (price, percentOff, _left, charged) => {
      const coupon = await createCoupon({ percentOff });
      const { buyer, order } = await checkout(api, price);

      const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(res.status).toBe(201);
      expect(res.body.payment).toMatchObject({ amountCents: charged, currency: 'usd', status: 'succeeded', couponCode: coupon.code });
      expect(res.body.order.status).toBe('complete');
      expect(intentsOf(sandbox, order.id)).toEqual([expect.objectContaining({ amountCents: charged, currency: 'usd', status: 'succeeded' })]);
    });

    test('a 100% coupon still makes an order at the minimum price free: nothing charged, no card needed', async () => {
      const coupon = await createCoupon({ percentOff: 100 });
      const { buyer, order } = await checkout(api, 50);

      const res = await pay(api, buyer, { orderId: order.id, couponCode: coupon.code });

      expect(res.status).toBe(201);
      expect(res.body.payment).toMatchObject({ amountCents: 0, status: 'succeeded', providerRef: null });
      expect(intentsOf(sandbox, order.id)).toHaveLength(0);
    });

    test('in jpy the amount is whole yen: ¥80 with 50% off leaves ¥40, and the card pays the ¥50 minimum', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const { buyer, order } = await checkout(api, 80, 'jpy');

      const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(res.status).toBe(201);
      expect(res.body.payment).toMatchObject({ amountCents: 50, currency: 'jpy' });
      expect(intentsOf(sandbox, order.id)).toEqual([expect.objectContaining({ amountCents: 50, currency: 'jpy', status: 'succeeded' })]);
    });

    test('in kwd what is left is rounded up to a multiple of 10: 1.010 kwd with 50% off is charged 0.510, not 0.505', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const { buyer, order } = await checkout(api, 1010, 'kwd');

      const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(res.status).toBe(201);
      expect(res.body.payment).toMatchObject({ amountCents: 510, currency: 'kwd' });
      expect(intentsOf(sandbox, order.id)).toEqual([expect.objectContaining({ amountCents: 510, currency: 'kwd', status: 'succeeded' })]);
    });
  });
});
