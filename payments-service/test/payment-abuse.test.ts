import { client } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { startPaymentsService } from '../src/app';
import { loadPaymentsConfig } from '../src/config';
import { createSandboxProvider, type SandboxProvider } from '../src/providers';
import { type Api, type Checkout, checkout, couponRedemptions, intentsOf, type IssuedCoupon, issueCoupon, pay, signInAdmin, startPaymentsStack } from './payments-stack';

const MAX_FAILURES = 3;
const WINDOW_SECONDS = 5;

describe('payments that try to abuse coupons or idempotency keys', () => {
  let stack: Stack;
  let api: Api;
  let sandbox: SandboxProvider;
  let adminToken: string;

  beforeAll(async () => {
    sandbox = createSandboxProvider();
    stack = await startPaymentsStack({
      provider: sandbox,
      env: { COUPON_FAILURES_MAX: String(MAX_FAILURES), COUPON_FAILURES_WINDOW_SECONDS: String(WINDOW_SECONDS) },
    });
    api = client(stack);
    adminToken = (await signInAdmin(api)).accessToken;
  });
  afterAll(() => stack?.stop());

  const createCoupon = (body: Record<string, unknown>): Promise<IssuedCoupon> => issueCoupon(api, adminToken, body);
  const redemptionsOf = (code: string): Promise<number> => couponRedemptions(api, adminToken, code);

  const orderStatus = async (c: Checkout): Promise<string> => (await api.get(`/orders/${c.order.id}`, c.buyer.accessToken)).body.order.status;

  /** Uses up the buyer's allowance of unusable coupons, each answered coupon_invalid. */
  async function failCoupons(c: Checkout, times = MAX_FAILURES): Promise<void> {
    for (let i = 0; i < times; i++) {
      const res = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: `GUESS-${i}-${Date.now()}` });
      if (res.body.code !== 'coupon_invalid') throw new Error(`expected coupon_invalid, got ${res.status} ${JSON.stringify(res.body)}`);
    }
  }

  describe('guessing coupon codes', () => {
    test('after COUPON_FAILURES_MAX unusable coupons the next coupon payment is 429 with Retry-After, and nothing is charged or redeemed', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const c = await checkout(api);
      await failCoupons(c);

      const res = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 429, code: 'too_many_coupon_attempts' });
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
      expect(await redemptionsOf(coupon.code)).toBe(0);
      expect(intentsOf(sandbox, c.order.id)).toHaveLength(0);
      expect(await orderStatus(c)).toBe('pending');
    });

    test('the limit holds whichever of two payments-service replicas answers', async () => {
      const replica = await startPaymentsService(loadPaymentsConfig(stack.envFor('payments')), stack.logger, { provider: sandbox });
      try {
        const c = await checkout(api);
        await failCoupons(c);

        // Round-robin between the two consumers of the RPC queue: both replicas answer some of these.
        const answers = [];
        for (let i = 0; i < 4; i++) answers.push((await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: `MORE-${i}` })).status);

        expect(answers).toEqual([429, 429, 429, 429]);
      } finally {
        await replica.stop();
      }
    });

    test('a locked-out buyer can still pay without a coupon, and other buyers keep using coupons', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const locked = await checkout(api, 2000);
      const other = await checkout(api, 2000);
      await failCoupons(locked);

      const withoutCoupon = await pay(api, locked.buyer, { orderId: locked.order.id, paymentMethod: 'pm_card_visa' });
      const otherBuyer = await pay(api, other.buyer, { orderId: other.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });

      expect(withoutCoupon.status).toBe(201);
      expect(withoutCoupon.body.payment.amountCents).toBe(2000);
      expect(otherBuyer.status).toBe(201);
      expect(otherBuyer.body.payment.amountCents).toBe(1000);
    });

    test('once the window has passed the buyer can use a coupon again; refused attempts do not extend it', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const c = await checkout(api, 2000);
      const firstFailureAt = Date.now();
      await failCoupons(c);

      // Every poll before the window ends is another refused attempt, which must not count.
      let last = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });
      const paid = await eventually(
        async () => {
          last = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code });
          return last.status !== 429;
        },
        (WINDOW_SECONDS + 3) * 1000,
        250,
      );

      expect(paid).toBe(true);
      expect(last.status).toBe(201);
      expect(last.body.payment.amountCents).toBe(1000);
      expect(Date.now() - firstFailureAt).toBeGreaterThanOrEqual(WINDOW_SECONDS * 1000);
    }, 20_000);

    test('parallel unusable coupons cannot slip past the limit together', async () => {
      const c = await checkout(api);

      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: `BURST-${i}` })),
      );

      const codes = results.map((r) => r.body.code);
      expect(codes.filter((code) => code === 'coupon_invalid').length).toBeLessThanOrEqual(MAX_FAILURES);
      expect(codes.filter((code) => code !== 'coupon_invalid').every((code) => code === 'too_many_coupon_attempts')).toBe(true);
      expect(intentsOf(sandbox, c.order.id)).toHaveLength(0);
    });
  });

  describe('reusing an Idempotency-Key', () => {
    test('with another paymentMethod is 422 idempotency_key_reused and charges nothing more; the first request still replays', async () => {
      const c = await checkout(api);
      const first = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa' }, 'same-key-other-card');

      const other = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_mastercard' }, 'same-key-other-card');
      const repeat = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa' }, 'same-key-other-card');

      expect(first.status).toBe(201);
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({ code: 'idempotency_key_reused', detail: expect.stringContaining('different request') });
      expect(repeat.status).toBe(201);
      expect(repeat.body.payment).toEqual(first.body.payment);
      expect(intentsOf(sandbox, c.order.id)).toHaveLength(1);
    });

    test('with a coupon added is 422 and takes no redemption', async () => {
      const coupon = await createCoupon({ percentOff: 100 });
      const c = await checkout(api);
      expect((await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa' }, 'same-key-add-coupon')).status).toBe(201);

      const res = await pay(api, c.buyer, { orderId: c.order.id, couponCode: coupon.code }, 'same-key-add-coupon');

      expect(res.status).toBe(422);
      expect(res.body.code).toBe('idempotency_key_reused');
      expect(await redemptionsOf(coupon.code)).toBe(0);
    });

    test('after a decline, another card under the same key is 422 and the order stays payable under a new key', async () => {
      const c = await checkout(api);
      expect((await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_chargeDeclined' }, 'declined-key')).status).toBe(402);

      const sameKey = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa' }, 'declined-key');

      expect(sameKey.status).toBe(422);
      expect(sameKey.body.code).toBe('idempotency_key_reused');
      expect(intentsOf(sandbox, c.order.id)).toHaveLength(1);
      expect(await orderStatus(c)).toBe('pending');
      expect((await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa' }, 'new-key')).status).toBe(201);
    });

    test('a coupon code written in another case is the same request and replays', async () => {
      const coupon = await createCoupon({ percentOff: 50 });
      const c = await checkout(api);
      const first = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code }, 'case-key');

      const again = await pay(api, c.buyer, { orderId: c.order.id, paymentMethod: 'pm_card_visa', couponCode: coupon.code.toLowerCase() }, 'case-key');

      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body.payment).toEqual(first.body.payment);
      expect(await redemptionsOf(coupon.code)).toBe(1);
    });

    test('two different requests sent at once under one key: one is paid, the other is 422, one charge', async () => {
      const c = await checkout(api);

      const results = await Promise.all(
        ['pm_card_visa', 'pm_card_mastercard'].map((paymentMethod) => pay(api, c.buyer, { orderId: c.order.id, paymentMethod }, 'racing-key')),
      );

      expect(results.map((r) => r.status).sort()).toEqual([201, 422]);
      expect(results.find((r) => r.status === 422)?.body.code).toBe('idempotency_key_reused');
      expect(intentsOf(sandbox, c.order.id)).toHaveLength(1);
    });
  });
});
