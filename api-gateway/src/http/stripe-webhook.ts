import express, { type Router } from 'express';
import { type Logger, problem, type Redis, type RpcClient } from '@market/common';
import { createRateLimiter } from './rate-limit';
import type { ReadCache } from './read-cache';

/** Stripe's events are small (tens of kB); this leaves room and still bounds what a stranger can send. */
export const WEBHOOK_BODY_LIMIT = '512kb';

export interface StripeWebhookOptions {
  rpc: RpcClient;
  redis: Redis;
  cache: ReadCache;
  prefix: string;
  limit: number;
  windowMs: number;
  timeoutMs: number;
  logger: Logger;
}

/**
 * POST /webhooks/stripe. Mounted before the JSON parser and the per-client limiter: the signature
 * covers the exact bytes, so the body is carried as it came (base64 over the broker), and Stripe
 * sends bursts from shared addresses. It has a bound of its own (all senders together), and the
 * gateway verifies nothing but the request's shape: payments-service, which holds the endpoint's
 * secret, verifies the signature (a bad one is a 400 that changes nothing) and handles each event
 * once. Any 5xx makes Stripe deliver the event again later.
 */
export function stripeWebhookRouter(opts: StripeWebhookOptions): Router {
  const router = express.Router();
  const limiter = createRateLimiter({
    redis: opts.redis,
    cache: opts.cache,
    prefix: `${opts.prefix}:webhooks`,
    limit: opts.limit,
    windowMs: opts.windowMs,
    logger: opts.logger,
    keyOf: () => 'stripe',
  });
  router.post('/webhooks/stripe', limiter, express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const signature = req.get('stripe-signature');
    if (!signature || signature.length > 2000) throw problem('invalid_signature', 'header');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (body.length === 0) throw problem('invalid_signature', 'noBody');
    const reply = await opts.rpc.call('payments.stripeWebhook', { body: body.toString('base64'), signature }, { timeoutMs: opts.timeoutMs });
    res.status(200).json({ received: reply.received });
  });
  return router;
}
