import { paymentRpcTimeoutMs } from '@market/common';

/**
 * How long one Stripe call may take, derived from RPC_TIMEOUT_MS so that it always fits inside what
 * the gateway waits for payments.create (paymentRpcTimeoutMs: 3 × RPC_TIMEOUT_MS).
 *
 * One call is the request, the SDK's retries of it (same idempotency key, after its back-off), and —
 * when no clear answer came — one follow-up read of the PaymentIntent (one request, not retried):
 *
 *     (maxNetworkRetries + 1) × timeoutMs + back-off + timeoutMs  ≤  budgetMs
 *     budgetMs = paymentRpcTimeoutMs(RPC_TIMEOUT_MS) − RPC_TIMEOUT_MS   (= 2 × RPC_TIMEOUT_MS)
 *
 * The RPC_TIMEOUT_MS held back is for the orders.get that comes before the authorization. With the
 * default 5000 ms: budget 10 s, one retry, 3.1 s per request (the SDK's own default is 80 s, and a
 * card is confirmed in a second or two). Should a payment still outlast the gateway (orders-service
 * slow as well), the buyer gets a 504 and the payment, left pending, is settled by the reconciler.
 */
export interface StripeTiming {
  /** One request's timeout. */
  timeoutMs: number;
  /** The SDK's retries of one request. */
  maxNetworkRetries: number;
  /** The whole call's worst case, as above. */
  budgetMs: number;
}

/** Below this a request would time out while Stripe is still confirming a card: drop the retry first. */
const MIN_TIMEOUT_WITH_RETRY_MS = 1000;

/** stripe-node's wait before its n-th retry (0.5 s doubling up to 5 s, never less than 0.5 s), summed. */
export function retryBackoffMs(retries: number): number {
  let total = 0;
  for (let n = 0; n < retries; n++) total += Math.max(500, Math.min(500 * 2 ** (n - 1), 5000));
  return total;
}

export function stripeTimingOf(rpcTimeoutMs: number): StripeTiming {
  const budgetMs = paymentRpcTimeoutMs(rpcTimeoutMs) - rpcTimeoutMs;
  const timeoutFor = (retries: number): number => Math.floor((budgetMs - retryBackoffMs(retries)) / (retries + 2));
  const maxNetworkRetries = timeoutFor(1) >= MIN_TIMEOUT_WITH_RETRY_MS ? 1 : 0;
  return { timeoutMs: Math.max(1, timeoutFor(maxNetworkRetries)), maxNetworkRetries, budgetMs };
}

/** What a provider built without configuration uses: the timing for the default RPC_TIMEOUT_MS. */
export const DEFAULT_STRIPE_TIMING: StripeTiming = stripeTimingOf(5000);
