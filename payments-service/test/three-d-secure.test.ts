import { client, type Session } from '../../test/support/http';
import { eventually, until } from '../../test/support/wait';
import type { Stack } from '../../test/support/stack';
import { createSandboxProvider, type SandboxProvider } from '../src/providers';
import { recordEvents } from '../../test/support/events';
import { type Api, checkout, intentsOf, pay, startPaymentsStack } from './payments-stack';

/**
 * Cards that need their buyer (3-D Secure), with the sandbox: POST /payments answers 202 with the
 * payment in requires_action and what the browser needs; the sandbox's stand-in for Stripe.js
 * passes or fails the challenge; the payment settles by the sandbox's event, the buyer's refresh or
 * the reconciler.
 */
describe('payments that need the buyer (3-D Secure), in the sandbox', () => {
  const TTL_SECONDS = 4;
  let sandbox: SandboxProvider;
  let stack: Stack;
  let api: Api;

  beforeAll(async () => {
    sandbox = createSandboxProvider();
    stack = await startPaymentsStack({
      provider: sandbox,
      env: { ORDER_TTL_SECONDS: String(TTL_SECONDS) },
      // Stale after 1 s, looked at every 300 ms: a buyer who never comes back is let go within the test.
      reconcile: { everyMs: 300, staleAfterMs: 1000 },
    });
    api = client(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const authenticate = (intentId: string, body: Record<string, unknown>) => api.post(`/sandbox/payment-intents/${intentId}/authenticate`, body);
  const paymentsOf = async (buyer: Session, orderId: string) => (await api.get(`/payments?orderId=${orderId}`, buyer.accessToken)).body.items as { id: string; status: string }[];
  const orderOf = async (buyer: Session, orderId: string) => (await api.get(`/orders/${orderId}`, buyer.accessToken)).body.order as { status: string };

  test('GET /config tells a browser there is no Stripe.js to load: the sandbox takes payments', async () => {
    expect((await api.get('/config')).body).toEqual({ stripe: null });
  });

  test('a card that needs 3-D Secure answers 202 requires_action with the client secret; passing the challenge completes the order with one capture', async () => {
    const { buyer, listing, order } = await checkout(api, 3100);

    const res = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });

    expect(res.status).toBe(202);
    const [intent] = intentsOf(sandbox, order.id);
    expect(res.body.payment).toMatchObject({
      status: 'requires_action',
      providerRef: intent?.id,
      amountCents: 3100,
      nextAction: { type: 'sandbox_authenticate', clientSecret: intent?.clientSecret },
    });
    expect(res.body.order).toMatchObject({ id: order.id, status: 'pending' });
    // Nobody else can have the listing meanwhile, and the payment shows in the buyer's list.
    expect((await api.get(`/listings/${listing.id}`)).body.listing.status).toBe('reserved');
    expect(await paymentsOf(buyer, order.id)).toMatchObject([{ id: res.body.payment.id, status: 'requires_action' }]);

    const passed = await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'complete' });

    expect(passed.status).toBe(200);
    expect(passed.body).toEqual({ status: 'requires_capture' });
    // The sandbox's event settled it: the buyer's refresh finds it done.
    const refreshed = await api.post(`/payments/${res.body.payment.id}/refresh`, {}, buyer.accessToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.payment).toMatchObject({ status: 'succeeded' });
    expect(refreshed.body.payment.nextAction).toBeUndefined();
    expect(refreshed.body.order.status).toBe('complete');
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['succeeded']);
    expect((await api.get(`/listings/${listing.id}`)).body.listing.status).toBe('sold');
  });

  test('a failed challenge is a 402 on refresh; the order stays payable, and another card pays it', async () => {
    const { buyer, order } = await checkout(api);
    const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_threeDSecure2Required' });
    const [intent] = intentsOf(sandbox, order.id);

    const failed = await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'fail' });
    const refreshed = await api.post(`/payments/${started.body.payment.id}/refresh`, {}, buyer.accessToken);

    expect(failed.body).toEqual({ status: 'requires_payment_method' });
    expect(refreshed.status).toBe(402);
    expect(refreshed.body.code).toBe('card_declined');
    expect(await orderOf(buyer, order.id)).toMatchObject({ status: 'pending' });
    expect((await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' })).status).toBe(201);
  });

  test("Stripe's 'authenticate, then decline' card is declined once the buyer passes the challenge", async () => {
    const { buyer, order } = await checkout(api);
    const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequiredChargeDeclinedInsufficientFunds' });
    const [intent] = intentsOf(sandbox, order.id);

    await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'complete' });
    const refreshed = await api.post(`/payments/${started.body.payment.id}/refresh`, {}, buyer.accessToken);

    expect(refreshed.status).toBe(402);
    expect(refreshed.body.detail).toBe('Your card has insufficient funds.');
    expect(await orderOf(buyer, order.id)).toMatchObject({ status: 'pending' });
  });

  test('the challenge needs the intent\'s client secret; a wrong one changes nothing, and bad input is a 400', async () => {
    const { buyer, order } = await checkout(api);
    const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
    const [intent] = intentsOf(sandbox, order.id);

    const wrong = await authenticate(intent?.id ?? '', { clientSecret: `${intent?.id}_secret_guess`, outcome: 'complete' });
    const unknown = await authenticate('pi_sandbox_000000000000000000000000', { clientSecret: intent?.clientSecret, outcome: 'complete' });
    const malformed = await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'maybe' });
    const extra = await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'complete', amount: 1 });

    expect([wrong.status, unknown.status, malformed.status, extra.status]).toEqual([404, 404, 400, 400]);
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['requires_action']);
    const again = await api.post(`/payments/${started.body.payment.id}/refresh`, {}, buyer.accessToken);
    expect(again.status).toBe(202);
    expect(again.body.payment).toMatchObject({ status: 'requires_action', nextAction: { clientSecret: intent?.clientSecret } });
  });

  test('only the buyer can refresh a payment; to anyone else it does not exist', async () => {
    const { buyer, order } = await checkout(api);
    const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
    const stranger = await api.signUp('Stranger');

    const theirs = await api.post(`/payments/${started.body.payment.id}/refresh`, {}, stranger.accessToken);
    const anonymous = await api.post(`/payments/${started.body.payment.id}/refresh`, {});

    expect(theirs.status).toBe(404);
    expect(theirs.body.nextAction).toBeUndefined();
    expect(anonymous.status).toBe(401);
    expect((await api.post('/payments/not-a-uuid/refresh', {}, buyer.accessToken)).status).toBe(400);
  });

  test('a repeat under the same Idempotency-Key answers 202 with the same payment and client secret, and no second intent', async () => {
    const { buyer, order } = await checkout(api);
    const body = { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' };

    const first = await pay(api, buyer, body, 'three-ds-once');
    const second = await pay(api, buyer, body, 'three-ds-once');

    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.payment).toEqual(first.body.payment);
    expect(intentsOf(sandbox, order.id)).toHaveLength(1);
  });

  test('paying anew while a challenge is open supersedes it: its intent is cancelled and the new card pays; the old challenge then holds nothing', async () => {
    const { buyer, order } = await checkout(api);
    const waiting = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
    const [oldIntent] = intentsOf(sandbox, order.id);

    const paid = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(paid.status).toBe(201);
    expect(paid.body.order.status).toBe('complete');
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['canceled', 'succeeded']);
    expect((await authenticate(oldIntent?.id ?? '', { clientSecret: oldIntent?.clientSecret, outcome: 'complete' })).status).toBe(409);
    const old = await api.post(`/payments/${waiting.body.payment.id}/refresh`, {}, buyer.accessToken);
    expect(old.status).toBe(409);
    expect(old.body.code).toBe('payment_canceled');
  });

  test('another buyer cannot take over a payment waiting for its buyer', async () => {
    const { buyer, order } = await checkout(api);
    await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
    const other = await api.signUp('Other');

    const res = await pay(api, other, { orderId: order.id, paymentMethod: 'pm_card_visa' });

    expect(res.status).toBe(404);
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['requires_action']);
  });

  test('a buyer who never finishes: once the order expires, the reconciler cancels the intent and fails the payment', async () => {
    const events = await recordEvents(stack, ['order.*']);
    try {
      const { buyer, order } = await checkout(api);
      const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
      expect(started.status).toBe(202);

      await until(order.expiresAt);
      expect(await eventually(async () => intentsOf(sandbox, order.id)[0]?.status === 'canceled', 10_000)).toBe(true);
      expect(await eventually(async () => (await paymentsOf(buyer, order.id))[0]?.status === 'failed', 5000)).toBe(true);
      expect(await eventually(async () => events.seen.some((e) => e.type === 'order.expired' && (e.payload as { order: { id: string } }).order.id === order.id))).toBe(true);
      // Passing the challenge now is too late: the intent is gone.
      const [intent] = intentsOf(sandbox, order.id);
      expect((await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'complete' })).status).toBe(409);
    } finally {
      await events.stop();
    }
  });

  test('a challenge passed after the order expired is let go: the payment fails and nothing is captured', async () => {
    const { buyer, order } = await checkout(api);
    const started = await pay(api, buyer, { orderId: order.id, paymentMethod: 'pm_card_authenticationRequired' });
    const [intent] = intentsOf(sandbox, order.id);
    await until(order.expiresAt, 200);

    // Race the reconciler: whichever acts, no money may be kept for an expired order.
    await authenticate(intent?.id ?? '', { clientSecret: intent?.clientSecret, outcome: 'complete' });

    expect(await eventually(async () => (await paymentsOf(buyer, order.id))[0]?.status === 'failed', 10_000)).toBe(true);
    expect(intentsOf(sandbox, order.id).map((i) => i.status)).toEqual(['canceled']);
    const refreshed = await api.post(`/payments/${started.body.payment.id}/refresh`, {}, buyer.accessToken);
    expect(refreshed.status).toBe(409);
  });
});
