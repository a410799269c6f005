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

export interface IssuedCoupon {
  code: string;
  percentOff: number;
  expiresAt: string | null;
}

/** Issues a coupon as the admin; anything but a 201 fails the test's setup. */
export async function issueCoupon(api: Api, adminToken: string, body: Record<string, unknown>): Promise<IssuedCoupon> {
  const res = await api.post('/coupons', body, adminToken);
  if (res.status !== 201) throw new Error(`create coupon failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.coupon;
}

/** How many times a coupon has been redeemed, as the admin's list of coupons says. */
export const couponRedemptions = async (api: Api, adminToken: string, code: string): Promise<number> =>
  (await api.get('/coupons?limit=100', adminToken)).body.items.find((c: { code: string }) => c.code === code).redemptions;

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
