import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@market/common';
import type { AuthorizeRequest, PaymentProvider } from '../src/providers/payment-provider';
import { createSandboxProvider, type SandboxProvider } from '../src/providers/sandbox-provider';
import { createStripeProvider } from '../src/providers/stripe-provider';
import { type FakeStripe, startFakeStripe, VALID_KEY } from './fake-stripe';

/* ------------------------------------------------------------------------------------------------
 * Amounts and currencies Stripe charges (the table in common/src/contracts/money.ts): both providers
 * refuse the others before any money moves, with Stripe's codes, and the fake Stripe refuses them as
 * Stripe does.
 * ---------------------------------------------------------------------------------------------- */

function request(amountCents: number, currency: string): AuthorizeRequest {
  return { amountCents, currency, paymentMethod: 'pm_card_visa', idempotencyKey: `order-1-${amountCents}-${currency}:authorize`, orderId: 'order-1', paymentId: 'payment-1' };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail, but it succeeded');
    },
    (err: unknown) => err,
  );
}

const CHARGEABLE: [string, number, string][] = [
  ['the usd minimum of 0.50', 50, 'usd'],
  ['the usd maximum of 999,999.99', 99_999_999, 'usd'],
  ['the jpy minimum of 50 yen (zero-decimal)', 50, 'jpy'],
  ['1.010 kwd (three-decimal, ending in 0)', 1010, 'kwd'],
];

const REFUSED: [string, string, number, string][] = [
  ['0.49 usd, below the minimum', 'amount_too_small', 49, 'usd'],
  ['1,000,000.00 usd, above the eight-digit maximum', 'amount_too_large', 100_000_000, 'usd'],
  ['49 jpy, below the minimum', 'amount_too_small', 49, 'jpy'],
  ['1.005 kwd, not ending in 0', 'invalid_charge_amount', 1005, 'kwd'],
  ['a currency that does not exist', 'invalid_currency', 2500, 'xyz'],
  ['a currency outside the supported list', 'invalid_currency', 2500, 'isk'],
];

describe.each(['sandbox', 'stripe'] as const)('the %s provider', (name) => {
  let stripe: FakeStripe | undefined;
  let sandbox: SandboxProvider | undefined;
  let provider: PaymentProvider;

  beforeEach(async () => {
    if (name === 'sandbox') {
      sandbox = createSandboxProvider();
      provider = sandbox;
    } else {
      stripe = await startFakeStripe();
      provider = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 5_000 });
    }
  });
  afterEach(async () => {
    await stripe?.close();
    stripe = undefined;
    sandbox = undefined;
  });

  /** What reached the money: the sandbox's intents, or the requests the fake Stripe received. */
  const touched = (): number => (sandbox ? sandbox.intents().length : (stripe?.requests.length ?? 0));

  test.each(CHARGEABLE)('authorizes %s', async (_label, amountCents, currency) => {
    await expect(provider.authorize(request(amountCents, currency))).resolves.toMatchObject({ status: 'authorized' });
  });

  test.each(REFUSED)('refuses %s: 400 %s, before touching money', async (_label, code, amountCents, currency) => {
    const err = await rejection(provider.authorize(request(amountCents, currency)));

    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 400, code });
    expect(touched()).toBe(0);
  });

  test('says what Stripe says: the amount, its minimum and the currency', async () => {
    const err = await rejection(provider.authorize(request(49, 'usd')));

    expect((err as AppError).detail).toBe('Amount must be at least 50 (0.50 usd), the smallest charge Stripe accepts in usd.');
  });
});

describe('the fake Stripe refuses an amount or currency as Stripe does', () => {
  let stripe: FakeStripe;
  beforeEach(async () => {
    stripe = await startFakeStripe();
  });
  afterEach(() => stripe.close());

  /** A PaymentIntent create as the SDK sends it, straight to the fake. */
  async function createIntent(amount: string, currency: string): Promise<{ status: number; body: { error?: Record<string, unknown>; status?: string } }> {
    const res = await fetch(`http://127.0.0.1:${stripe.port}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${VALID_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ amount, currency, payment_method: 'pm_card_visa', confirm: 'true', capture_method: 'manual' }),
    });
    return { status: res.status, body: (await res.json()) as { error?: Record<string, unknown> } };
  }

  test.each([
    ['an amount below the currency\'s minimum', '49', 'usd', { code: 'amount_too_small', param: 'amount', message: 'Amount must be at least 0.50 usd' }],
    ['an amount below the jpy minimum', '49', 'jpy', { code: 'amount_too_small', param: 'amount', message: 'Amount must be at least 50 jpy' }],
    ['an amount of more than eight digits', '100000000', 'usd', { code: 'amount_too_large', param: 'amount', message: 'Amount must be no more than 999,999.99 usd' }],
    ['a three-decimal amount not ending in 0', '1005', 'kwd', { code: 'invalid_charge_amount', param: 'amount' }],
    ['an unknown currency', '2500', 'xyz', { param: 'currency', message: expect.stringMatching(/^Invalid currency: xyz\./) }],
    ['an amount that is not an integer', '42.5', 'usd', { code: 'parameter_invalid_integer', param: 'amount' }],
    ['a zero amount', '0', 'usd', { param: 'amount', message: 'This value must be greater than or equal to 1.' }],
  ])('%s is a 400 invalid_request_error and creates no intent', async (_label, amount, currency, error) => {
    const res = await createIntent(amount, currency);

    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', ...error });
    expect(stripe.intents.size).toBe(0);
  });

  test.each([
    ['50', 'usd'],
    ['99999999', 'usd'],
    ['50', 'jpy'],
    ['1010', 'kwd'],
  ])('%s %s, within the rules, is charged', async (amount, currency) => {
    const res = await createIntent(amount, currency);

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('requires_capture');
  });
});

test("Stripe's own refusal of an amount (short of the settlement currency's minimum once converted) is a 400 with its code, not a 502", async () => {
  // Stripe refuses a charge the table allows when the account settles in another currency; the fake
  // models one settlement currency per charge, so this answer comes from a server of its own.
  const message = 'Amount must convert to at least 50 cents. £0.30 converts to approximately $0.38.';
  const server = createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json', 'request-id': 'req_settlement' });
    res.end(JSON.stringify({ error: { type: 'invalid_request_error', code: 'amount_too_small', param: 'amount', message } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const provider = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port, protocol: 'http', timeoutMs: 5_000, maxNetworkRetries: 0 });

    const err = await rejection(provider.authorize(request(30, 'gbp')));

    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 400, code: 'amount_too_small', detail: message });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
