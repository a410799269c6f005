import { AppError } from '@market/common';
import { createSandboxProvider, type SandboxProvider } from '../src/providers/sandbox-provider';
import type { AuthorizeRequest } from '../src/providers/payment-provider';

function request(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    amountCents: 4_250,
    currency: 'usd',
    paymentMethod: 'pm_card_visa',
    idempotencyKey: 'order-1:authorize',
    orderId: 'order-1',
    paymentId: 'payment-1',
    ...overrides,
  };
}

async function authorizedRef(provider: SandboxProvider, key = 'order-1:authorize'): Promise<string> {
  const result = await provider.authorize(request({ idempotencyKey: key }));
  if (result.status !== 'authorized') throw new Error(`expected an authorization, got ${result.status}`);
  return result.providerRef;
}

async function expectAppError(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status, code });
}

describe('sandbox payment provider', () => {
  let provider: SandboxProvider;

  beforeEach(() => {
    provider = createSandboxProvider();
  });

  it('calls itself sandbox', () => {
    expect(provider.name).toBe('sandbox');
  });

  describe('authorize', () => {
    it('authorizes pm_card_visa and holds the money in requires_capture', async () => {
      const result = await provider.authorize(request());

      expect(result).toEqual({ status: 'authorized', providerRef: expect.stringMatching(/^pi_sandbox_[0-9a-f]{24}$/) });
      expect(provider.intents()).toEqual([
        {
          id: (result as { providerRef: string }).providerRef,
          amountCents: 4_250,
          currency: 'usd',
          paymentMethod: 'pm_card_visa',
          orderId: 'order-1',
          paymentId: 'payment-1',
          status: 'requires_capture',
          clientSecret: expect.stringMatching(/^pi_sandbox_[0-9a-f]{24}_secret_[0-9a-f]{24}$/),
          lastError: null,
          refunded: false,
        },
      ]);
    });

    it('authorizes any other pm_card_ test method such as pm_card_mastercard', async () => {
      await expect(provider.authorize(request({ paymentMethod: 'pm_card_mastercard' }))).resolves.toMatchObject({ status: 'authorized' });
    });

    it.each(['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined'])(
      'declines %s with generic_decline and Stripe\'s message, leaving the intent awaiting a payment method',
      async (paymentMethod) => {
        const result = await provider.authorize(request({ paymentMethod }));

        expect(result).toEqual({
          status: 'declined',
          providerRef: expect.stringMatching(/^pi_sandbox_/),
          declineCode: 'generic_decline',
          message: 'Your card was declined.',
        });
        expect(provider.intents().map((i) => i.status)).toEqual(['requires_payment_method']);
      },
    );

    it('declines pm_card_chargeDeclinedInsufficientFunds with insufficient_funds', async () => {
      await expect(provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }))).resolves.toMatchObject({
        status: 'declined',
        declineCode: 'insufficient_funds',
      });
    });

    // Stripe's "Declined payments" test methods, with what Stripe answers for each (the Stripe
    // stand-in's test checks the same values on the wire) and what the Stripe adapter records:
    // the decline_code, or the code where Stripe gives none.
    it.each([
      ['pm_card_visa_chargeDeclined', 'generic_decline', 'Your card was declined.'],
      ['pm_card_visa_chargeDeclinedInsufficientFunds', 'insufficient_funds', 'Your card has insufficient funds.'],
      ['pm_card_visa_chargeDeclinedLostCard', 'lost_card', 'Your card was declined.'],
      ['pm_card_chargeDeclinedLostCard', 'lost_card', 'Your card was declined.'],
      ['pm_card_visa_chargeDeclinedStolenCard', 'stolen_card', 'Your card was declined.'],
      ['pm_card_chargeDeclinedStolenCard', 'stolen_card', 'Your card was declined.'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'Your card has expired.'],
      ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', "Your card's security code is incorrect."],
      ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'An error occurred while processing your card. Try again in a little bit.'],
      ['pm_card_visa_chargeDeclinedVelocityLimitExceeded', 'card_velocity_exceeded', 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.'],
      ['pm_card_chargeDeclinedFraudulent', 'fraudulent', 'Your card was declined.'],
      ['pm_card_radarBlock', 'fraudulent', 'Your card was declined.'],
    ])('declines %s as Stripe does, recording %s', async (paymentMethod, declineCode, message) => {
      await expect(provider.authorize(request({ paymentMethod }))).resolves.toEqual({ status: 'declined', providerRef: expect.stringMatching(/^pi_sandbox_/), declineCode, message });
      expect(provider.intents().map((i) => i.status)).toEqual(['requires_payment_method']);
    });

    it('rejects a string that is not a payment method id with 400 invalid_payment_method and creates no intent', async () => {
      await expectAppError(provider.authorize(request({ paymentMethod: '4242424242424242' })), 400, 'invalid_payment_method');
      expect(provider.intents()).toHaveLength(0);
    });

    it.each([
      ['a zero amount', { amountCents: 0 }, 'invalid_amount'],
      ['a fractional amount', { amountCents: 10.5 }, 'invalid_amount'],
      ['an upper-case currency', { currency: 'USD' }, 'invalid_currency'],
      ['an empty idempotency key', { idempotencyKey: '' }, 'invalid_idempotency_key'],
    ])('rejects %s with a 400 before creating an intent', async (_label, overrides, code) => {
      await expectAppError(provider.authorize(request(overrides)), 400, code);
      expect(provider.intents()).toHaveLength(0);
    });
  });

  describe('idempotency', () => {
    it('returns the same providerRef for the same key and never creates a second intent', async () => {
      const first = await provider.authorize(request());
      const second = await provider.authorize(request());

      expect(second).toEqual(first);
      expect(provider.intents()).toHaveLength(1);
    });

    it('replays a decline for the same key instead of trying the card again', async () => {
      const first = await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));
      const second = await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));

      expect(second).toEqual(first);
      expect(provider.intents()).toHaveLength(1);
    });

    it('creates a separate intent for a different key', async () => {
      const first = await authorizedRef(provider, 'order-1:authorize');
      const second = await authorizedRef(provider, 'order-1:authorize:retry');

      expect(second).not.toBe(first);
      expect(provider.intents()).toHaveLength(2);
    });

    it('refuses to reuse a key with a different amount, like Stripe', async () => {
      await provider.authorize(request());

      await expectAppError(provider.authorize(request({ amountCents: 9_999 })), 409, 'idempotency_key_reused');
      expect(provider.intents()).toHaveLength(1);
    });

    it('forgets a key after 24 hours, as Stripe does: the same key then runs again', async () => {
      let clock = Date.parse('2026-11-01T00:00:00Z');
      const timed = createSandboxProvider({ now: () => clock });
      const first = await timed.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));

      clock += 24 * 60 * 60_000 - 1;
      await expectAppError(timed.authorize(request({ amountCents: 9_999 })), 409, 'idempotency_key_reused');
      expect(await timed.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }))).toEqual(first);

      clock += 1;
      const after = await timed.authorize(request());
      expect(after).toMatchObject({ status: 'authorized' });
      expect(timed.intents()).toHaveLength(2);
    });

    it('refuses to reuse an authorize key for a capture', async () => {
      const ref = await authorizedRef(provider);

      await expectAppError(provider.capture(ref, 'order-1:authorize'), 409, 'idempotency_key_reused');
      expect(provider.intents()[0]?.status).toBe('requires_capture');
    });
  });

  describe('state machine', () => {
    it('captures an authorized intent into succeeded', async () => {
      const ref = await authorizedRef(provider);

      await provider.capture(ref, 'order-1:capture');

      expect(provider.intents()[0]?.status).toBe('succeeded');
    });

    it('treats a second capture, with the same or a new key, as done', async () => {
      const ref = await authorizedRef(provider);
      await provider.capture(ref, 'order-1:capture');

      await expect(provider.capture(ref, 'order-1:capture')).resolves.toBeUndefined();
      await expect(provider.capture(ref, 'order-1:capture:again')).resolves.toBeUndefined();
      expect(provider.intents()[0]?.status).toBe('succeeded');
    });

    it('cancels an authorized intent, and cancelling it again is fine', async () => {
      const ref = await authorizedRef(provider);

      await provider.cancel(ref, 'order-1:cancel');
      await provider.cancel(ref, 'order-1:cancel:again');

      expect(provider.intents()[0]?.status).toBe('canceled');
    });

    it('refuses to capture a cancelled intent with 409 payment_intent_unexpected_state', async () => {
      const ref = await authorizedRef(provider);
      await provider.cancel(ref, 'order-1:cancel');

      await expectAppError(provider.capture(ref, 'order-1:capture'), 409, 'payment_intent_unexpected_state');
      expect(provider.intents()[0]?.status).toBe('canceled');
    });

    it('refuses to cancel a captured intent', async () => {
      const ref = await authorizedRef(provider);
      await provider.capture(ref, 'order-1:capture');

      await expectAppError(provider.cancel(ref, 'order-1:cancel'), 409, 'payment_intent_unexpected_state');
      expect(provider.intents()[0]?.status).toBe('succeeded');
    });

    it('refunds a captured intent, and refunding it again is fine', async () => {
      const ref = await authorizedRef(provider);
      await provider.capture(ref, 'order-1:capture');

      await provider.refund(ref, 'order-1:refund');
      await provider.refund(ref, 'order-1:refund:again');

      expect(provider.intents()[0]).toMatchObject({ status: 'succeeded', refunded: true });
    });

    it('refuses to refund an intent that was only authorized', async () => {
      const ref = await authorizedRef(provider);

      await expectAppError(provider.refund(ref, 'order-1:refund'), 409, 'payment_intent_unexpected_state');
      expect(provider.intents()[0]).toMatchObject({ status: 'requires_capture', refunded: false });
    });

    it('replays the first error for a key even after the state has changed', async () => {
      const ref = await authorizedRef(provider);
      await expectAppError(provider.refund(ref, 'order-1:refund'), 409, 'payment_intent_unexpected_state');
      await provider.capture(ref, 'order-1:capture');

      await expectAppError(provider.refund(ref, 'order-1:refund'), 409, 'payment_intent_unexpected_state');
      expect(provider.intents()[0]?.refunded).toBe(false);
    });

    it('answers 404 for an intent it never created', async () => {
      await expectAppError(provider.capture('pi_sandbox_unknown', 'k'), 404, 'payment_not_found');
    });
  });

  describe('finding an authorization', () => {
    it('finds the hold of the order for the amount, and cancels any other hold of that order', async () => {
      const stray = await authorizedRef(provider, 'order-1:older');
      const mine = await authorizedRef(provider, 'order-1:authorize');

      await expect(provider.findAuthorization(request(), new Date(0))).resolves.toEqual({ status: 'authorized', providerRef: mine });
      expect(provider.intents().map((i) => [i.id, i.status])).toEqual([
        [stray, 'canceled'],
        [mine, 'requires_capture'],
      ]);
    });

    it('answers null when nothing of the order is held', async () => {
      await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));

      await expect(provider.findAuthorization(request(), new Date(0))).resolves.toBeNull();
    });
  });

  it('hands out copies from intents() so a test cannot change the provider\'s state', async () => {
    await authorizedRef(provider);
    const snapshot = provider.intents()[0] as { status: string };

    snapshot.status = 'succeeded';

    expect(provider.intents()[0]?.status).toBe('requires_capture');
  });
});
