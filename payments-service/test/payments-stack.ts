import { setTimeout as sleep } from 'node:timers/promises';
import { Broker, type EventEnvelope, EventSubscriber } from '@market/common';
import { client, type Session } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';
import { type PaymentsOverrides, startPaymentsService } from '../src/app';
import { loadPaymentsConfig } from '../src/config';
import type { PaymentProvider, SandboxIntent, SandboxProvider } from '../src/providers';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };

/**
 * The stack through the gateway, with payments-service started here so the test chooses its
 * provider: a sandbox it can inspect, or the Stripe provider pointed at the fake Stripe.
 */
export async function startPaymentsStack(opts: { env?: Record<string, string>; provider: PaymentProvider; reconcile?: PaymentsOverrides['reconcile'] }): Promise<Stack> {
  const stack = await startStack({ services: ['listings', 'orders'], env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...opts.env } });
  try {
    stack.services.payments = await startPaymentsService(loadPaymentsConfig(stack.envFor('payments')), stack.logger, {
      provider: opts.provider,
      ...(opts.reconcile ? { reconcile: opts.reconcile } : {}),
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}

export type Api = ReturnType<typeof client>;

export async function signInAdmin(api: Api): Promise<Session> {
  const res = await api.post<Session>('/signin', ADMIN);
  if (res.status !== 200) throw new Error(`admin sign in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface Checkout {
  seller: Session;
  buyer: Session;
  listing: { id: string; priceCents: number };
  order: { id: string; priceCents: number; status: string; expiresAt: string; listingId: string };
}

/** A seller lists something and a fresh buyer orders it: a pending order ready to be paid. */
export async function checkout(api: Api, priceCents = 2500, currency = 'usd'): Promise<Checkout> {
  const seller = await api.signUp('Seller');
  const listing = await api.createListing(seller.accessToken, { priceCents, currency });
  const buyer = await api.signUp('Buyer');
  const res = await api.post('/orders', { listingId: listing.id }, buyer.accessToken);
  if (res.status !== 201) throw new Error(`order failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { seller, buyer, listing, order: res.body.order };
}

export function pay(api: Api, buyer: Session, body: Record<string, unknown>, idempotencyKey?: string) {
  return api.post('/payments', body, buyer.accessToken, idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined);
}

export const intentsOf = (sandbox: SandboxProvider, orderId: string): SandboxIntent[] => sandbox.intents().filter((i) => i.orderId === orderId);

/** Money the provider holds for good: captured and not refunded. */
export const capturedOf = (sandbox: SandboxProvider, orderId: string): SandboxIntent[] => intentsOf(sandbox, orderId).filter((i) => i.status === 'succeeded' && !i.refunded);

export async function waitUntil(isoTime: string, plusMs = 0): Promise<void> {
  const ms = Date.parse(isoTime) + plusMs - Date.now();
  if (ms > 0) await sleep(ms);
}

/** Listens to every event on the stack's bus, as another service would. */
export async function recordEvents(stack: Stack, patterns: string[]): Promise<{ seen: EventEnvelope[]; stop(): Promise<void> }> {
  const broker = new Broker({ url: stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672', logger: stack.logger, name: 'payments-test-listener' });
  const seen: EventEnvelope[] = [];
  const events = new EventSubscriber(broker, { prefix: stack.env.BUS_PREFIX ?? '', logger: stack.logger, identity: stack.identityOf('api-gateway') });
  events.subscribe({ patterns, handler: async (event) => void seen.push(event) });
  await events.start();
  await broker.start();
  return {
    seen,
    stop: async () => {
      events.stop();
      await broker.close();
    },
  };
}
