import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/* ------------------------------------------------------------------------------------------------
 * A local stand-in for api.stripe.com: the PaymentIntents and Refunds endpoints this provider uses,
 * Stripe's idempotency semantics, and a record of every request so tests assert on the wire.
 * ---------------------------------------------------------------------------------------------- */

/** The only API key the fake accepts; any other gets Stripe's 401. */
export const VALID_KEY = 'sk_test_fake_valid';
const DECLINING_METHODS = new Set(['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined']);

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, string>;
  idempotencyKey: string | undefined;
}

export interface FakeIntent {
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

/**
 * What the next request(s) should suffer before they are served normally. `{ delayMs }` answers
 * normally but late, as Stripe does while a card is being confirmed.
 */
export type Fault = 'http500' | 'drop-response' | { delayMs: number };

export interface FakeStripe {
  readonly port: number;
  readonly requests: RecordedRequest[];
  readonly intents: Map<string, FakeIntent>;
  readonly refunds: { id: string; payment_intent: string; amount: number }[];
  /** Queue faults for the next requests, in order. */
  inject(...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startFakeStripe(): Promise<FakeStripe> {
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

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const method = req.method ?? '';
    const path = req.url ?? '';
    const idempotencyKey = header(req, 'idempotency-key');
    requests.push({ method, path, body: Object.fromEntries(new URLSearchParams(raw)), idempotencyKey });

    const fault = faults.shift();
    if (typeof fault === 'object') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
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
    req.on('end', () => void handle(req, res, raw));
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
