import { iso, type Knex } from '@market/common';

/** `pending` is internal (a request or the reconciler is still at work); the others are public. */
export type PaymentStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'refunded';
export type ProviderName = 'stripe' | 'sandbox';

interface PaymentRow {
  id: string;
  order_id: string;
  buyer_id: string;
  amount_cents: number;
  currency: string;
  status: PaymentStatus;
  provider: ProviderName;
  provider_ref: string | null;
  payment_method: string | null;
  coupon_code: string | null;
  idempotency_key: string | null;
  request_fingerprint: string | null;
  decline_code: string | null;
  decline_message: string | null;
  failure_reason: string | null;
  refund_status: RefundStatus | null;
  dispute_id: string | null;
  dispute_status: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentRecord {
  id: string;
  orderId: string;
  buyerId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  provider: ProviderName;
  providerRef: string | null;
  paymentMethod: string | null;
  couponCode: string | null;
  idempotencyKey: string | null;
  /** What was asked under the Idempotency-Key (see payForOrder); null without a key and on older rows. */
  requestFingerprint: string | null;
  declineCode: string | null;
  declineMessage: string | null;
  /** Why a payment failed other than by a decline: `capture_refused` (see FAILURE_REASONS). */
  failureReason: FailureReason | null;
  refundStatus: RefundStatus | null;
  disputeId: string | null;
  disputeStatus: string | null;
  createdAt: string;
  updatedAt: Date;
}

const toRecord = (row: PaymentRow): PaymentRecord => ({
  id: row.id,
  orderId: row.order_id,
  buyerId: row.buyer_id,
  amountCents: row.amount_cents,
  currency: row.currency,
  status: row.status,
  provider: row.provider,
  providerRef: row.provider_ref,
  paymentMethod: row.payment_method,
  couponCode: row.coupon_code,
  idempotencyKey: row.idempotency_key,
  requestFingerprint: row.request_fingerprint,
  declineCode: row.decline_code,
  declineMessage: row.decline_message,
  failureReason: row.failure_reason as FailureReason | null,
  refundStatus: row.refund_status,
  disputeId: row.dispute_id,
  disputeStatus: row.dispute_status,
  createdAt: iso(row.created_at),
  updatedAt: new Date(row.updated_at),
});

export type RefundStatus = 'pending' | 'succeeded' | 'failed';
/** The public payment statuses that still hold the order's claim and may yet take money. */
export const OPEN_STATUSES = ['pending', 'requires_action'] as const;

export type NewPayment = Pick<PaymentRecord, 'id' | 'orderId' | 'buyerId' | 'amountCents' | 'currency' | 'provider' | 'paymentMethod' | 'couponCode' | 'idempotencyKey' | 'requestFingerprint'>;

export interface Decline {
  declineCode: string;
  declineMessage: string;
}

/**
 * Failures that are not declines, kept so that a repeat under the Idempotency-Key gets the first
 * answer. capture_refused: the order was completed, then the provider refused to capture (the
 * authorization had lapsed): no money was taken for a complete order (see settle-payment.ts).
 * canceled: the intent was cancelled before it held money (the buyer paid anew while 3-D Secure was
 * open, the order ended first, or it was cancelled at the provider).
 */
export const FAILURE_REASONS = ['capture_refused', 'canceled'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface FailOutcome {
  decline?: Decline;
  failureReason?: FailureReason;
  /**
   * Releases the Idempotency-Key too: the attempt ended without an answer worth replaying (the
   * provider did not respond), so a retry under the same key must run again.
   */
  forgetKey?: boolean;
}

/**
 * Every status change is conditional on the payment still being `pending`, so when a request and the
 * reconciler settle the same payment side by side, exactly one of them records the outcome (and
 * gives back the coupon or publishes the event).
 */
export class PaymentRepository {
  constructor(private readonly db: Knex) {}

  /** The claim: fails with ER_DUP_ENTRY when the order already has an active payment or the key was used. */
  async insertPending(p: NewPayment, trx: Knex): Promise<PaymentRecord> {
    const now = new Date();
    await trx('payments').insert({
      id: p.id,
      order_id: p.orderId,
      buyer_id: p.buyerId,
      amount_cents: p.amountCents,
      currency: p.currency,
      status: 'pending',
      provider: p.provider,
      provider_ref: null,
      payment_method: p.paymentMethod,
      coupon_code: p.couponCode,
      idempotency_key: p.idempotencyKey,
      request_fingerprint: p.requestFingerprint,
      active_order_id: p.orderId,
      created_at: now,
      updated_at: now,
    });
    return {
      ...p,
      status: 'pending',
      providerRef: null,
      declineCode: null,
      declineMessage: null,
      failureReason: null,
      refundStatus: null,
      disputeId: null,
      disputeStatus: null,
      createdAt: now.toISOString(),
      updatedAt: now,
    };
  }

  async findById(id: string, trx: Knex = this.db): Promise<PaymentRecord | undefined> {
    const row = (await trx('payments').where({ id }).first()) as PaymentRow | undefined;
    return row && toRecord(row);
  }

  async findByIdempotencyKey(buyerId: string, key: string): Promise<PaymentRecord | undefined> {
    const row = (await this.db('payments').where({ buyer_id: buyerId, idempotency_key: key }).first()) as PaymentRow | undefined;
    return row && toRecord(row);
  }

  /** The payment holding the order's claim (pending or succeeded), if any. */
  async findActiveForOrder(orderId: string): Promise<PaymentRecord | undefined> {
    const row = (await this.db('payments').where({ active_order_id: orderId }).first()) as PaymentRow | undefined;
    return row && toRecord(row);
  }

  async listSettledOfBuyer(buyerId: string, orderId: string | undefined, limit: number, offset: number): Promise<{ items: PaymentRecord[]; total: number }> {
    const where = (q: Knex.QueryBuilder): Knex.QueryBuilder => {
      q.where({ buyer_id: buyerId }).whereNot({ status: 'pending' });
      if (orderId) q.where({ order_id: orderId });
      return q;
    };
    const [rows, count] = await Promise.all([
      where(this.db('payments')).orderBy([{ column: 'created_at', order: 'desc' }, 'id']).limit(limit).offset(offset) as Promise<PaymentRow[]>,
      where(this.db('payments')).count({ n: '*' }).first() as Promise<{ n: number } | undefined>,
    ]);
    return { items: rows.map(toRecord), total: Number(count?.n ?? 0) };
  }

  async findByProviderRef(providerRef: string): Promise<PaymentRecord | undefined> {
    const row = (await this.db('payments').where({ provider_ref: providerRef }).orderBy('created_at', 'desc').first()) as PaymentRow | undefined;
    return row && toRecord(row);
  }

  /**
   * Open payments nobody has touched since `before`: a pending one's request died or gave up; one in
   * requires_action waits for a buyer who may never come back (or for an event that was lost).
   */
  async findStalePending(before: Date, limit: number): Promise<PaymentRecord[]> {
    const rows = (await this.db('payments').whereIn('status', OPEN_STATUSES).where('updated_at', '<', before).orderBy('updated_at').limit(limit)) as PaymentRow[];
    return rows.map(toRecord);
  }

  /** Refunds asked for and not known to be done since `before` (the webhook did not come, or was lost). */
  async findStaleRefunds(before: Date, limit: number): Promise<PaymentRecord[]> {
    const rows = (await this.db('payments')
      .where({ status: 'succeeded', refund_status: 'pending' })
      .where('updated_at', '<', before)
      .orderBy('updated_at')
      .limit(limit)) as PaymentRow[];
    return rows.map(toRecord);
  }

  /**
   * Takes a stale payment over: succeeds for one caller only (compare-and-set on updated_at), and
   * pushes its staleness forward so nobody else picks it up while it is being settled.
   */
  async lease(p: PaymentRecord): Promise<boolean> {
    const affected = await this.db('payments').where({ id: p.id, status: p.status, updated_at: p.updatedAt }).update({ updated_at: new Date() });
    return affected === 1;
  }

  /** pending → requires_action: the intent waits for the buyer's 3-D Secure. The claim stays. */
  async markRequiresAction(id: string, providerRef: string): Promise<boolean> {
    return (await this.db('payments').where({ id, status: 'pending' }).update({ status: 'requires_action', provider_ref: providerRef, updated_at: new Date() })) === 1;
  }

  /**
   * requires_action → pending, once the provider says the buyer is done: whoever wins this (the
   * webhook, the buyer's refresh, the reconciler) settles the payment; the others leave it be.
   */
  async resumeAfterAction(id: string): Promise<boolean> {
    return (await this.db('payments').where({ id, status: 'requires_action' }).update({ status: 'pending', updated_at: new Date() })) === 1;
  }

  async recordAuthorization(id: string, providerRef: string): Promise<void> {
    await this.db('payments').where({ id, status: 'pending' }).update({ provider_ref: providerRef, updated_at: new Date() });
  }

  /** Refreshes a pending payment's lease while a slow step (the order, the provider) is under way. */
  async touch(id: string): Promise<void> {
    await this.db('payments').where({ id }).whereIn('status', OPEN_STATUSES).update({ updated_at: new Date() });
  }

  /** pending → succeeded; the claim stays, so the order can never be paid again. */
  async markSucceeded(id: string, trx: Knex): Promise<boolean> {
    return (await trx('payments').where({ id, status: 'pending' }).update({ status: 'succeeded', updated_at: new Date() })) === 1;
  }

  /**
   * pending or requires_action (or only those in `from`) → failed, releasing the claim so the order
   * can be paid again.
   */
  async markFailed(id: string, outcome: FailOutcome, trx: Knex, from: readonly PaymentStatus[] = OPEN_STATUSES): Promise<boolean> {
    const affected = await trx('payments')
      .where({ id })
      .whereIn('status', from)
      .update({
        status: 'failed',
        active_order_id: null,
        decline_code: outcome.decline?.declineCode ?? null,
        decline_message: outcome.decline?.declineMessage.slice(0, 500) ?? null,
        failure_reason: outcome.failureReason ?? null,
        ...(outcome.forgetKey ? { idempotency_key: null } : {}),
        updated_at: new Date(),
      });
    return affected === 1;
  }

  /** pending → refunded: money was taken for an order that could not be completed and was returned. */
  async markRefunded(id: string, trx: Knex): Promise<boolean> {
    const affected = await trx('payments').where({ id, status: 'pending' }).update({ status: 'refunded', active_order_id: null, updated_at: new Date() });
    return affected === 1;
  }

  /** A refund of a sale is asked for (or seen under way at the provider): succeeded, refund pending. */
  async markRefundRequested(id: string): Promise<void> {
    await this.db('payments')
      .where({ id, status: 'succeeded' })
      .where((q) => q.whereNull('refund_status').orWhere('refund_status', 'failed'))
      .update({ refund_status: 'pending', updated_at: new Date() });
  }

  /** succeeded → refunded: the money of a sale went back to the buyer. The order stays claimed: it was sold. */
  async markSaleRefunded(id: string, trx: Knex): Promise<boolean> {
    return (await trx('payments').where({ id, status: 'succeeded' }).update({ status: 'refunded', refund_status: 'succeeded', updated_at: new Date() })) === 1;
  }

  /** A refund that was under way failed at the provider: true for the one caller that records it. */
  async markRefundFailed(id: string, trx: Knex): Promise<boolean> {
    return (await trx('payments').where({ id, refund_status: 'pending' }).update({ refund_status: 'failed', updated_at: new Date() })) === 1;
  }

  /** Records a dispute (chargeback): true when it is news (first seen, or its status moved). */
  async recordDispute(id: string, dispute: { id: string; status: string }, trx: Knex): Promise<boolean> {
    const affected = await trx('payments')
      .where({ id })
      .where((q) => q.whereNull('dispute_status').orWhereNot('dispute_status', dispute.status))
      .update({ dispute_id: dispute.id, dispute_status: dispute.status.slice(0, 40), updated_at: new Date() });
    return affected === 1;
  }
}
