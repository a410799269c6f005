import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@market/common';
import { createStripeProvider, type StripeProviderOptions } from '../src/providers/stripe-provider';
import type { AuthorizeRequest, PaymentProvider } from '../src/providers/payment-provider';

/* ------------------------------------------------------------------------------------------------
 * A local stand-in for api.stripe.com: the PaymentIntents and Refunds endpoints this provider uses,
 * Stripe's idempotency semantics, and a record of every request so tests assert on the wire.
 * ---------------------------------------------------------------------------------------------- */

const VALID_KEY = 'sk_test_fake_valid';
const DECLINING_METHODS = new Set(['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined']);

interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, string>;
  idempotencyKey: string | undefined;
}

interface FakeIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: 'requires_payment_method' | 'requires_capture' | 'succeeded' | 'canceled';
  capture_method: string;
  confirmation_method: 'automatic';
  payment_method: string;
  metadata: Record<string, string>;
  livemode: false;
  created: number;
}

interface Reply {
  status: number;
  body: unknown;
}

/** What the next request(s) should suffer before they are served normally. */
type Fault = 'http500' | 'drop-response';

interface FakeStripe {
  readonly port: number;
  readonly requests: RecordedRequest[];
  readonly intents: Map<string, FakeIntent>;
  readonly refunds: { id: string; payment_intent: string; amount: number }[];
  /** Queue faults for the next requests, in order. */
  inject(...faults: Fault[]): void;
  close(): Promise<void>;
}

async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const intents = new Map<string, FakeIntent>();
  const refunds: FakeStripe['refunds'] = [];
  const replays = new Map<string, { fingerprint: string; reply: Reply }>();
  const faults: Fault[] = [];
  let sequence = 0;
  const nextId = (prefix: string): string => `${prefix}_fake${String(++sequence).padStart(6, '0')}`;

  function route(method: string, path: string, body: Record<string, string>): Reply {
    if (method === 'POST' && path === '/v1/payment_intents') return createIntent(body);
    if (method === 'POST' && path === '/v1/refunds') return createRefund(body);
    const action = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path);
    if (method === 'POST' && action?.[1] && action[2]) {
      const intent = intents.get(action[1]);
      if (!intent) return missing(action[1]);
      return action[2] === 'capture' ? capture(intent) : cancel(intent);
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } } };
  }

  function createIntent(body: Record<string, string>): Reply {
    const amount = Number(body.amount);
    const intent: FakeIntent = {
      id: nextId('pi'),
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      currency: body.currency ?? '',
      status: 'requires_capture',
      capture_method: body.capture_method ?? 'automatic_async',
      confirmation_method: 'automatic',
      payment_method: body.payment_method ?? '',
      metadata: { orderId: body['metadata[orderId]'] ?? '' },
      livemode: false,
      created: Math.floor(Date.now() / 1000),
    };
    intents.set(intent.id, intent);
    if (DECLINING_METHODS.has(intent.payment_method)) {
      intent.status = 'requires_payment_method';
      return {
        status: 402,
        body: {
          error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'generic_decline',
            message: 'Your card was declined.',
            payment_intent: intent,
          },
        },
      };
    }
    intent.amount_capturable = amount;
    return { status: 200, body: intent };
  }

  function capture(intent: FakeIntent): Reply {
    if (intent.status !== 'requires_capture') return unexpectedState(intent, 'capture');
    Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, amount_capturable: 0 });
    return { status: 200, body: intent };
  }

  function cancel(intent: FakeIntent): Reply {
    if (intent.status !== 'requires_capture' && intent.status !== 'requires_payment_method') return unexpectedState(intent, 'cancel');
    Object.assign(intent, { status: 'canceled', amount_capturable: 0 });
    return { status: 200, body: intent };
  }

  function createRefund(body: Record<string, string>): Reply {
    const intent = intents.get(body.payment_intent ?? '');
    if (!intent) return missing(body.payment_intent ?? '');
    if (refunds.some((r) => r.payment_intent === intent.id)) {
      return { status: 400, body: { error: { type: 'invalid_request_error', code: 'charge_already_refunded', message: 'Charge has already been refunded.' } } };
    }
    if (intent.status !== 'succeeded') return unexpectedState(intent, 'refund');
    const refund = { id: nextId('re'), object: 'refund', amount: intent.amount, payment_intent: intent.id, status: 'succeeded' };
    refunds.push(refund);
    return { status: 200, body: refund };
  }

  function unexpectedState(intent: FakeIntent, action: string): Reply {
    const message = `This PaymentIntent could not be ${action}ed because it has a status of ${intent.status}.`;
    return { status: 400, body: { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message, payment_intent: intent } } };
  }

  function missing(id: string): Reply {
    return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: `No such payment_intent: '${id}'` } } };
  }

  /** Stripe's rule: a key replays its first reply, and a key reused with other parameters is an error. */
  function idempotent(key: string | undefined, fingerprint: string, serve: () => Reply): Reply {
    if (!key) return serve();
    const seen = replays.get(key);
    if (seen && seen.fingerprint !== fingerprint) {
      return { status: 400, body: { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.' } } };
    }
    if (seen) return seen.reply;
    const reply = serve();
    replays.set(key, { fingerprint, reply: { status: reply.status, body: structuredClone(reply.body) } });
    return reply;
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const method = req.method ?? '';
    const path = req.url ?? '';
    const idempotencyKey = header(req, 'idempotency-key');
    requests.push({ method, path, body: Object.fromEntries(new URLSearchParams(raw)), idempotencyKey });

    const fault = faults.shift();
    if (fault === 'http500') return send(res, { status: 500, body: { error: { type: 'api_error', message: 'An unknown error occurred.' } } });
    if (header(req, 'authorization') !== `Bearer ${VALID_KEY}`) {
      return send(res, { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' } } });
    }
    const reply = idempotent(idempotencyKey, `${method} ${path} ${raw}`, () => route(method, path, Object.fromEntries(new URLSearchParams(raw))));
    // The charge happened but the answer is lost on the way back: the case idempotency keys exist for.
    if (fault === 'drop-response') return void res.socket?.destroy();
    send(res, reply);
  }

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    requests,
    intents,
    refunds,
    inject: (...more) => void faults.push(...more),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': 'req_fake' });
  res.end(JSON.stringify(reply.body));
}

/* ------------------------------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------------------------------- */

function request(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    amountCents: 4_250,
    currency: 'usd',
    paymentMethod: 'pm_card_visa',
    idempotencyKey: 'order-7f3a:authorize',
    orderId: 'order-7f3a',
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail, but it succeeded');
    },
    (err: unknown) => err,
  );
}

/* ------------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------------- */

describe('stripe payment provider against a local fake of the Stripe API', () => {
  let stripe: FakeStripe;
  let provider: PaymentProvider;

  function providerFor(overrides: Partial<StripeProviderOptions> = {}): PaymentProvider {
    return createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: stripe.port, protocol: 'http', timeoutMs: 5_000, ...overrides });
  }

  async function authorizedRef(key = 'order-7f3a:authorize'): Promise<string> {
    const result = await provider.authorize(request({ idempotencyKey: key }));
    if (result.status !== 'authorized') throw new Error(`expected an authorization, got ${result.status}`);
    return result.providerRef;
  }

  beforeEach(async () => {
    stripe = await startFakeStripe();
    provider = providerFor();
  });

  afterEach(async () => {
    await stripe.close();
  });

  it('calls itself stripe', () => {
    expect(provider.name).toBe('stripe');
  });

  describe('authorize', () => {
    it('creates and confirms a manual-capture PaymentIntent with the amount in cents, the currency, the order id and the idempotency key', async () => {
      const result = await provider.authorize(request());

      expect(stripe.requests).toHaveLength(1);
      const [sent] = stripe.requests;
      expect(sent).toMatchObject({ method: 'POST', path: '/v1/payment_intents', idempotencyKey: 'order-7f3a:authorize' });
      expect(sent?.body).toEqual({
        amount: '4250',
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
        capture_method: 'manual',
        'allowed_payment_method_types[0]': 'card',
        error_on_requires_action: 'true',
        'metadata[orderId]': 'order-7f3a',
      });
      const [intent] = [...stripe.intents.values()];
      expect(result).toEqual({ status: 'authorized', providerRef: intent?.id });
      expect(intent?.status).toBe('requires_capture');
    });

    it('reports a card decline as a declined result carrying Stripe\'s decline code, message and intent id', async () => {
      const result = await provider.authorize(request({ paymentMethod: 'pm_card_chargeDeclined' }));

      const [intent] = [...stripe.intents.values()];
      expect(result).toEqual({ status: 'declined', providerRef: intent?.id, declineCode: 'generic_decline', message: 'Your card was declined.' });
      expect(stripe.requests).toHaveLength(1);
    });

    it('retries after an HTTP 500 with the same idempotency key and ends up with exactly one intent', async () => {
      stripe.inject('http500');

      const result = await provider.authorize(request());

      expect(stripe.requests.map((r) => [r.path, r.idempotencyKey])).toEqual([
        ['/v1/payment_intents', 'order-7f3a:authorize'],
        ['/v1/payment_intents', 'order-7f3a:authorize'],
      ]);
      expect(stripe.intents.size).toBe(1);
      expect(result).toEqual({ status: 'authorized', providerRef: [...stripe.intents.keys()][0] });
    });

    it('recovers the original intent when the response to a successful create is lost, without charging twice', async () => {
      stripe.inject('drop-response');

      const result = await provider.authorize(request());

      expect(stripe.requests).toHaveLength(2);
      expect(stripe.requests[1]?.idempotencyKey).toBe(stripe.requests[0]?.idempotencyKey);
      expect(stripe.intents.size).toBe(1);
      expect(result).toEqual({ status: 'authorized', providerRef: [...stripe.intents.keys()][0] });
    });

    it('creates exactly one intent when authorize is called twice with the same key', async () => {
      const first = await provider.authorize(request());
      const second = await provider.authorize(request());

      expect(second).toEqual(first);
      expect(stripe.requests).toHaveLength(2);
      expect(stripe.intents.size).toBe(1);
    });

    it('turns a key reused with a different amount into 409 idempotency_key_reused', async () => {
      await provider.authorize(request());

      const err = await rejection(provider.authorize(request({ amountCents: 9_999 })));

      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 409, code: 'idempotency_key_reused' });
      expect(stripe.intents.size).toBe(1);
    });

    it('rejects a fractional amount with a 400 without calling Stripe', async () => {
      const err = await rejection(provider.authorize(request({ amountCents: 42.5 })));

      expect(err).toMatchObject({ status: 400, code: 'invalid_amount' });
      expect(stripe.requests).toHaveLength(0);
    });
  });

  describe('capture, cancel and refund', () => {
    it('captures through POST /v1/payment_intents/:id/capture with the idempotency key', async () => {
      const ref = await authorizedRef();

      await provider.capture(ref, 'order-7f3a:capture');

      expect(stripe.requests.at(-1)).toEqual({ method: 'POST', path: `/v1/payment_intents/${ref}/capture`, body: {}, idempotencyKey: 'order-7f3a:capture' });
      expect(stripe.intents.get(ref)?.status).toBe('succeeded');
    });

    it('cancels through POST /v1/payment_intents/:id/cancel with the idempotency key', async () => {
      const ref = await authorizedRef();

      await provider.cancel(ref, 'order-7f3a:cancel');

      expect(stripe.requests.at(-1)).toEqual({ method: 'POST', path: `/v1/payment_intents/${ref}/cancel`, body: {}, idempotencyKey: 'order-7f3a:cancel' });
      expect(stripe.intents.get(ref)?.status).toBe('canceled');
    });

    it('treats cancelling an already cancelled intent under a new key as success', async () => {
      const ref = await authorizedRef();
      await provider.cancel(ref, 'order-7f3a:cancel');

      await expect(provider.cancel(ref, 'order-7f3a:cancel:second')).resolves.toBeUndefined();

      const cancels = stripe.requests.filter((r) => r.path.endsWith('/cancel'));
      expect(cancels.map((r) => r.idempotencyKey)).toEqual(['order-7f3a:cancel', 'order-7f3a:cancel:second']);
      expect(stripe.intents.get(ref)?.status).toBe('canceled');
    });

    it('refuses to capture a cancelled intent with 409 payment_intent_unexpected_state', async () => {
      const ref = await authorizedRef();
      await provider.cancel(ref, 'order-7f3a:cancel');

      const err = await rejection(provider.capture(ref, 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 409, code: 'payment_intent_unexpected_state' });
      expect(stripe.requests.at(-1)?.path).toBe(`/v1/payment_intents/${ref}/capture`);
      expect(stripe.intents.get(ref)?.status).toBe('canceled');
    });

    it('refunds a captured intent in full through POST /v1/refunds with the idempotency key', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');

      await provider.refund(ref, 'order-7f3a:refund');

      expect(stripe.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/refunds', body: { payment_intent: ref }, idempotencyKey: 'order-7f3a:refund' });
      expect(stripe.refunds).toEqual([expect.objectContaining({ payment_intent: ref, amount: 4_250 })]);
    });

    it('treats refunding an already refunded intent under a new key as success without a second refund', async () => {
      const ref = await authorizedRef();
      await provider.capture(ref, 'order-7f3a:capture');
      await provider.refund(ref, 'order-7f3a:refund');

      await expect(provider.refund(ref, 'order-7f3a:refund:second')).resolves.toBeUndefined();

      expect(stripe.requests.filter((r) => r.path === '/v1/refunds')).toHaveLength(2);
      expect(stripe.refunds).toHaveLength(1);
    });
  });

  describe('failures', () => {
    it('turns a rejected API key into AppError 502 without repeating the request or leaking the key', async () => {
      const err = await rejection(providerFor({ secretKey: 'sk_test_wrong' }).authorize(request()));

      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect((err as AppError).detail).not.toMatch(/sk_test|API Key/i);
      expect(stripe.requests).toHaveLength(1);
      expect(stripe.intents.size).toBe(0);
    });

    it('turns HTTP 500 on every attempt into AppError 502 after the SDK has retried twice with the same key', async () => {
      stripe.inject('http500', 'http500', 'http500');

      const err = await rejection(provider.capture('pi_fake000001', 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect(stripe.requests.map((r) => r.idempotencyKey)).toEqual(['order-7f3a:capture', 'order-7f3a:capture', 'order-7f3a:capture']);
    });

    it('turns an unreachable server into AppError 502 quickly', async () => {
      const closedPort = stripe.port;
      await stripe.close();
      const unreachable = createStripeProvider({ secretKey: VALID_KEY, host: '127.0.0.1', port: closedPort, protocol: 'http', timeoutMs: 500, maxNetworkRetries: 0 });
      const started = Date.now();

      const err = await rejection(unreachable.authorize(request()));

      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 502, code: 'payment_provider_error' });
      expect((err as AppError).detail).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      expect(Date.now() - started).toBeLessThan(2_000);
      stripe = await startFakeStripe(); // afterEach closes whatever is current
    });

    it('answers 404 payment_not_found for an intent Stripe does not know', async () => {
      const err = await rejection(provider.capture('pi_does_not_exist', 'order-7f3a:capture'));

      expect(err).toMatchObject({ status: 404, code: 'payment_not_found' });
      expect(stripe.requests.at(-1)?.path).toBe('/v1/payment_intents/pi_does_not_exist/capture');
    });
  });
});
