import { createHash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Actor, type contracts, isDuplicateKey, problem } from '@market/common';
import { type NewPayment, type PaymentRecord } from '../data-access/payment-repository';
import { asCouponAttempt } from './coupon-attempts';
import { amountAfterCoupon, redeemableCoupon } from './coupon-rules';
import type { PaymentsDeps } from './deps';
import { couponErrors, paymentErrors } from './payment-errors';
import { outcomeOf } from './payment-outcome';
import { fail, type Settled, settlePayment, stepKey } from './settle-payment';
import { syncPayment } from './sync-payment';

type PaymentInput = z.infer<typeof contracts.createPaymentBody>;

/**
 * The buyer pays a pending order. The amount is the order's price less any coupon, worked out here:
 * a client never says what it pays. The order is claimed (a pending payment row) before any money
 * moves, so double clicks and parallel tabs end in one charge; then settlePayment authorizes the
 * card, completes the order and captures, or lets the money go.
 * A repeat under an Idempotency-Key gets the first answer, or 422 when it asks for something else;
 * a payment with a coupon runs as a counted coupon attempt, so codes cannot be guessed at speed.
 */
export async function payForOrder(deps: PaymentsDeps, buyer: Actor, input: PaymentInput, idempotencyKey?: string): Promise<Settled> {
  const idempotency = idempotencyKey ? { key: idempotencyKey, orderId: input.orderId, fingerprint: requestFingerprint(input) } : undefined;
  if (idempotency) {
    const earlier = await deps.payments.findByIdempotencyKey(buyer.id, idempotency.key);
    if (earlier) return replay(deps, earlier, idempotency);
  }
  const pay = () => payNow(deps, buyer, input, idempotency);
  return input.couponCode ? asCouponAttempt(deps, buyer, pay) : pay();
}

/** An Idempotency-Key and the request it came with. */
interface KeyedRequest {
  key: string;
  orderId: string;
  fingerprint: string;
}

async function payNow(deps: PaymentsDeps, buyer: Actor, input: PaymentInput, idempotency: KeyedRequest | undefined): Promise<Settled> {
  const order = await deps.orders.get(input.orderId, buyer);
  if (order.buyerId !== buyer.id) throw problem('not_found', 'The order');
  assertPayable(order);

  const coupon = input.couponCode ? redeemableCoupon(await deps.coupons.findByCode(input.couponCode), new Date()) : undefined;
  const amountCents = amountAfterCoupon(order.priceCents, coupon?.percentOff, order.currency);
  if (amountCents > 0 && !input.paymentMethod) throw paymentErrors.paymentMethodRequired();

  const claim = (): Promise<PaymentRecord | undefined> => claimOrder(deps, {
    id: randomUUID(),
    orderId: order.id,
    buyerId: buyer.id,
    amountCents,
    currency: order.currency,
    provider: deps.provider.name,
    paymentMethod: amountCents > 0 ? (input.paymentMethod ?? null) : null,
    couponCode: coupon?.code ?? null,
    idempotencyKey: idempotency?.key ?? null,
    requestFingerprint: idempotency?.fingerprint ?? null,
  });
  let payment = await claim();
  // The buyer left an earlier payment in 3-D Secure and pays anew (another card, say): the new one goes ahead.
  if (!payment && (await supersedeWaiting(deps, buyer, order.id))) payment = await claim();
  if (!payment) return answerLostClaim(deps, buyer, order.id, idempotency);
  return settlePayment(deps, payment);
}

/**
 * The order's claim is held by a payment of this buyer that waits for 3-D Secure: it is given up
 * (failed as `canceled`, only if it still waits: one that is being settled right now is left alone)
 * and its intent cancelled, so that the buyer can pay with another card. Should the buyer finish the
 * old challenge after all, the webhook finds its payment failed and lets the hold go.
 */
async function supersedeWaiting(deps: PaymentsDeps, buyer: Actor, orderId: string): Promise<boolean> {
  const holder = await deps.payments.findActiveForOrder(orderId);
  if (holder?.status !== 'requires_action' || holder.buyerId !== buyer.id) return false;
  if (!(await fail(deps, holder, { failureReason: 'canceled' }, ['requires_action']))) return false;
  if (holder.providerRef) {
    await deps.provider.cancel(holder.providerRef, stepKey(holder, 'cancel', 1)).catch((err: unknown) =>
      deps.logger.warn('could not cancel the intent of a superseded payment; the webhook lets it go if it ever holds money', { paymentId: holder.id, err: String(err) }),
    );
  }
  deps.logger.info('a payment waiting for 3-D Secure was superseded by a new one', { paymentId: holder.id, orderId });
  return true;
}

/**
 * What identifies a request under an Idempotency-Key: everything the buyer chose, as the contract
 * parsed it (coupon codes are upper-cased there, so `summer` and `SUMMER` are one request).
 */
function requestFingerprint(input: PaymentInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.orderId, input.paymentMethod ?? null, input.couponCode ?? null]))
    .digest('hex');
}

/** Only a pending order within its time can be paid; checking here spares the card a needless hold. */
function assertPayable(order: contracts.Order): void {
  if (order.status !== 'pending') throw problem('order_not_pending', 'atPayment', order.status);
  if (Date.parse(order.expiresAt) <= Date.now()) throw problem('order_not_pending', 'atPayment', 'pending');
}

/**
 * Redeems the coupon and inserts the pending payment in one transaction: the payment holds the
 * redemption, and a claim that loses (duplicate order or key) takes no redemption with it.
 * Returns undefined when the order or the Idempotency-Key is already claimed.
 */
async function claimOrder(deps: PaymentsDeps, payment: NewPayment): Promise<PaymentRecord | undefined> {
  try {
    return await deps.db.transaction(async (trx) => {
      const { couponCode } = payment;
      if (couponCode && !(await deps.coupons.redeem(couponCode, new Date(), trx))) {
        // Someone else took the last redemption (or it expired) since we looked: unusable, like any other.
        throw couponErrors.invalid();
      }
      return await deps.payments.insertPending(payment, trx);
    });
  } catch (err) {
    if (isDuplicateKey(err)) return undefined;
    throw err;
  }
}

async function answerLostClaim(deps: PaymentsDeps, buyer: Actor, orderId: string, idempotency: KeyedRequest | undefined): Promise<Settled> {
  if (idempotency) {
    const earlier = await deps.payments.findByIdempotencyKey(buyer.id, idempotency.key);
    if (earlier) return replay(deps, earlier, idempotency);
  }
  const holder = await deps.payments.findActiveForOrder(orderId);
  if (holder?.status === 'succeeded' || holder?.status === 'refunded') throw problem('order_not_pending', 'atPayment', 'complete');
  throw problem('payment_in_progress');
}

/**
 * A repeat under the same Idempotency-Key: the first answer again, never a second charge. A
 * different request under that key is refused (as Stripe does) rather than answered with another
 * request's result.
 */
async function replay(deps: PaymentsDeps, earlier: PaymentRecord, request: KeyedRequest): Promise<Settled> {
  // Payments made before fingerprints were stored can only be compared by their order.
  const sameRequest = earlier.requestFingerprint ? earlier.requestFingerprint === request.fingerprint : earlier.orderId === request.orderId;
  if (!sameRequest) throw problem('idempotency_key_reused');
  // One waiting for 3-D Secure is answered as the provider has it now, with what the browser needs.
  if (earlier.status === 'requires_action') return syncPayment(deps, earlier);
  return outcomeOf(deps, earlier);
}
