import type { Channel, ConsumeMessage } from 'amqplib';
import type { Actor, ServiceIdentity, ServiceName, TokenActor, TokenVerifier } from '../auth';
import { rpcCallers } from '../contracts/callers';
import { AppError, describeError, toAppError } from '../errors';
import { runWithContext, type Logger } from '../logger';
import { rpcHandled } from '../metrics';
import { type Broker, consumeWithLegacy, declareQuorumQueue, ensureDeadLetter, settleDelivery } from './broker';
import { contextFromHeaders, DIRECT_REPLY_TO, HEADER_DEADLINE, MAX_RPC_MESSAGE_BYTES, replyFacts, type ReplyEnvelope, type RequestEnvelope, requestEnvelopeSchema, requestFacts, rpcQueue } from './envelope';

export interface RpcContext {
  /** The person the request is for: verified from their token here, or vouched for by a backend service. */
  actor: TokenActor | Actor | null;
  /** The service that sent the request, verified from its signature. */
  caller: ServiceName;
  requestId: string;
}

/** Whether a verified token's user still may act (not deleted, no revocation since it was issued). */
export type RevocationCheck = (actor: TokenActor) => Promise<void>;

export type RpcHandler = (payload: unknown, ctx: RpcContext) => Promise<unknown>;

export interface RpcServerOptions {
  prefix: string;
  logger: Logger;
  identity: ServiceIdentity;
  tokens: TokenVerifier;
  /** Consulted for every request that carries a user's token. */
  revocations?: RevocationCheck;
  /** Who may call each method; the contract's `rpcCallers` unless a test serves methods of its own. */
  callers?: Record<string, readonly ServiceName[]>;
  /** Requests handled at once by this process. */
  prefetch?: number;
}

/**
 * Serves `service.action` methods from the service's queue. A handler's AppError becomes an
 * `{ ok: false, error }` reply; the message is acknowledged only after the reply is sent. A message
 * that is not a valid request is rejected without requeue, so it lands in the dead-letter queue
 * instead of being redelivered forever.
 */
export class RpcServer {
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly consumers = new Set<{ channel: Channel; tags: string[] }>();
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private stopping = false;
  // winston formats a line before its transports drop it by level: decide once, not per request.
  private readonly accessLog: boolean;
  private readonly callers: Record<string, readonly ServiceName[]>;

  constructor(
    private readonly broker: Broker,
    private readonly options: RpcServerOptions,
  ) {
    this.accessLog = options.logger.isLevelEnabled('http');
    this.callers = options.callers ?? rpcCallers;
  }

  serve(method: string, handler: RpcHandler): this {
    rpcQueue(this.options.prefix, method); // validates the name early
    if (!this.callers[method]) throw new Error(`${method} has no entry in rpcCallers: say who may call it`);
    this.handlers.set(method, handler);
    return this;
  }

  async start(): Promise<void> {
    const queues = new Set([...this.handlers.keys()].map((m) => rpcQueue(this.options.prefix, m)));
    const dlx = await ensureDeadLetter(this.broker, this.options.prefix);
    // One setup per queue: a queue whose leader is unavailable holds up only its own methods.
    for (const queue of queues) {
      await this.broker.onConnect(async (scope) => {
        if (this.stopping) return;
        const channel = await scope.channel();
        await channel.prefetch(this.options.prefetch ?? 32);
        await declareQuorumQueue(channel, queue, { 'x-dead-letter-exchange': dlx });
        // Requests a gateway of the previous release sends to the classic queue are still answered.
        const consumer = { channel, tags: await consumeWithLegacy(scope, channel, queue, (msg: ConsumeMessage) => void this.handle(channel, msg)) };
        this.consumers.add(consumer);
        return () => this.consumers.delete(consumer);
      }, `rpc server ${queue}`);
    }
  }

  /** Stops taking requests, lets the ones in progress finish and reply, then closes the channel. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const consumers = [...this.consumers];
    for (const { channel, tags } of consumers) for (const tag of tags) await channel.cancel(tag).catch(() => undefined);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    this.consumers.clear();
    for (const { channel } of consumers) await channel.close().catch(() => undefined);
  }

  private async handle(channel: Channel, msg: ConsumeMessage): Promise<void> {
    this.inFlight++;
    try {
      await this.dispatch(channel, msg);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private async dispatch(channel: Channel, msg: ConsumeMessage): Promise<void> {
    const { logger } = this.options;
    const started = Date.now();
    const method = String(msg.properties.type ?? '');
    const headers = msg.properties.headers ?? {};
    const context = contextFromHeaders(headers, String(msg.properties.correlationId ?? 'unknown'));
    const { requestId } = context;
    await runWithContext(context, async () => {
      if (msg.content.length > MAX_RPC_MESSAGE_BYTES) {
        // No client of ours sends one (RpcClient refuses to): not parsed, not verified, not kept.
        logger.error('oversized rpc request dropped', { method, bytes: msg.content.length });
        rpcHandled.inc({ method, outcome: 'too_large' });
        settleDelivery(channel, msg, 'ack');
        return;
      }
      const deadline = Number(headers[HEADER_DEADLINE]);
      if (Number.isFinite(deadline) && Date.now() > deadline) {
        // The caller has already answered its client with a timeout; doing the work now would surprise them.
        logger.warn('rpc request skipped: caller gave up', { method });
        rpcHandled.inc({ method, outcome: 'expired' });
        settleDelivery(channel, msg, 'ack');
        return;
      }
      const replyTo = String(msg.properties.replyTo ?? '');
      const caller = this.options.identity.senderOf(headers, requestFacts(method, String(msg.properties.correlationId ?? ''), String(headers[HEADER_DEADLINE] ?? '')), msg.content);
      if (!caller || (replyTo && !replyTo.startsWith(DIRECT_REPLY_TO))) {
        // Not from a service that holds a key (or asking for its answer to go elsewhere): not obeyed, not answered.
        logger.error('unsigned or forged rpc request rejected to the dead-letter queue', { method, sender: String(headers['x-sender'] ?? '') });
        rpcHandled.inc({ method, outcome: 'forged' });
        settleDelivery(channel, msg, 'dead-letter');
        return;
      }
      const handler = this.handlers.get(method);
      const envelope = parseEnvelope(msg);
      if (!handler || !envelope) {
        const problem = handler
          ? new AppError(400, 'invalid_message', 'The request message is not valid.')
          : new AppError(501, 'unknown_method', `The method ${method || '(none)'} is not served here.`);
        logger.error('invalid rpc request rejected to the dead-letter queue', { method, code: problem.code });
        this.reply(channel, msg, { ok: false, error: problem.toJSON() });
        rpcHandled.inc({ method, outcome: problem.code });
        settleDelivery(channel, msg, 'dead-letter');
        return;
      }
      let reply: ReplyEnvelope;
      let invalidPayload = false;
      try {
        const actor = await this.actorOf(method, caller, envelope);
        reply = { ok: true, result: await handler(envelope.payload, { actor, caller, requestId }) };
      } catch (err) {
        const appError = toAppError(err);
        if (appError.status >= 500) logger.error('rpc handler failed', { method, err: describeError(err) });
        invalidPayload = appError.code === 'validation_failed';
        reply = { ok: false, error: appError.toJSON() };
      }
      this.reply(channel, msg, reply);
      const outcome = reply.ok ? 'ok' : reply.error.code;
      rpcHandled.inc({ method, outcome });
      if (this.accessLog) logger.http('rpc handled', { method, outcome, ms: Date.now() - started });
      settleDelivery(channel, msg, invalidPayload ? 'dead-letter' : 'ack');
    });
  }

  /** The caller must be allowed for the method; the person comes from a token verified here, or a backend service's word. */
  private async actorOf(method: string, caller: ServiceName, envelope: RequestEnvelope): Promise<TokenActor | Actor | null> {
    if (!this.callers[method]?.includes(caller)) throw new AppError(403, 'caller_not_allowed', `The ${caller} service may not call ${method}.`);
    if (envelope.token) {
      const actor = this.options.tokens.verify(envelope.token);
      await this.options.revocations?.(actor);
      return actor;
    }
    if (envelope.onBehalfOf) {
      if (caller === 'api-gateway') throw new AppError(403, 'caller_not_allowed', 'The gateway forwards the user\'s token; it cannot vouch for a user.');
      return envelope.onBehalfOf;
    }
    return null;
  }

  private reply(channel: Channel, msg: ConsumeMessage, reply: ReplyEnvelope): void {
    const { replyTo, correlationId } = msg.properties;
    if (!replyTo) return;
    try {
      let body = Buffer.from(JSON.stringify(reply));
      if (body.length > MAX_RPC_MESSAGE_BYTES) {
        // The broker would close this channel over it, failing every request in flight on it.
        this.options.logger.error('rpc reply too large; answered with an error instead', { method: String(msg.properties.type ?? ''), bytes: body.length });
        body = Buffer.from(JSON.stringify({ ok: false, error: new AppError(500, 'reply_too_large', 'The answer was too large to send.').toJSON() } satisfies ReplyEnvelope));
      }
      const headers = this.options.identity.headers(replyFacts(String(correlationId ?? '')), body);
      channel.sendToQueue(replyTo as string, body, { correlationId, contentType: 'application/json', headers });
    } catch {
      // The channel closed under us: the caller's reply queue went with the connection, so it times out or sees a 503.
    }
  }
}

function parseEnvelope(msg: ConsumeMessage): RequestEnvelope | undefined {
  try {
    const parsed = requestEnvelopeSchema.safeParse(JSON.parse(msg.content.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
