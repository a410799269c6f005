import type { z } from 'zod';
import type { Actor, ServiceIdentity, ServiceName, TokenActor, TokenVerifier } from '../auth';
import type { MethodOf, PayloadOf, ResultOf, RpcContractMap, RpcMethods } from '../contracts/rpc';
import { describeError, problem, toAppError, validate } from '../errors';
import { runWithContext, type Logger } from '../logger';
import { type Broker, declareQuorumQueue, type Delivery, ensureDeadLetter, ManagedChannel } from '../messaging';
import { contextFromHeaders } from '../messaging/context';
import { rpcHandled } from '../metrics';
import { contractOf, DIRECT_REPLY_TO, HEADER_DEADLINE, MAX_RPC_MESSAGE_BYTES, replyFacts, type ReplyEnvelope, type RequestEnvelope, requestEnvelopeSchema, requestFacts, rpcQueue } from './envelope';

export interface RpcContext {
  /** The person the request is for: verified from their token here, or vouched for by a backend service. */
  actor: TokenActor | Actor | null;
  /** The service that sent the request, verified from its signature. */
  caller: ServiceName;
  requestId: string;
}

/** Whether a verified token's user still may act (not deleted, no revocation since it was issued). */
export type RevocationCheck = (actor: TokenActor) => Promise<void>;

/** Serves one method: receives its request as the contract parsed it, answers what the contract's reply allows. */
export type RpcHandler<C extends RpcContractMap, M extends MethodOf<C>> = (payload: PayloadOf<C, M>, ctx: RpcContext) => Promise<ResultOf<C, M>>;

/** A handler with its contract applied at both ends. */
type CheckedHandler = (payload: unknown, ctx: RpcContext) => Promise<unknown>;

export interface RpcServerOptions<C extends RpcContractMap> {
  prefix: string;
  logger: Logger;
  identity: ServiceIdentity;
  tokens: TokenVerifier;
  /** Consulted for every request that carries a user's token. */
  revocations?: RevocationCheck;
  /** Each method's request and reply schemas and who may call it: `contracts.rpcMethods`, or a test's own. */
  contracts: C;
  /** Requests handled at once by this process. */
  prefetch?: number;
}

/**
 * Serves `service.action` methods from the service's queue. A request is parsed with its method's
 * `request` schema before the handler sees it (a mismatch is the 400 `validation_failed` reply, and the
 * message is dead-lettered), and the handler's answer is checked against `reply` before it is sent (a
 * mismatch is a bug: logged, answered with a 500). A handler's AppError becomes an `{ ok: false, error }`
 * reply; the message is acknowledged only after the reply is sent. A message that is not a valid request
 * is rejected without requeue, so it lands in the dead-letter queue instead of being redelivered forever.
 */
export class RpcServer<C extends RpcContractMap = RpcMethods> {
  private readonly handlers = new Map<string, CheckedHandler>();
  private readonly channels: ManagedChannel[] = [];
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private stopping = false;
  // winston formats a line before its transports drop it by level: decide once, not per request.
  private readonly accessLog: boolean;

  constructor(
    private readonly broker: Broker,
    private readonly options: RpcServerOptions<C>,
  ) {
    this.accessLog = options.logger.isLevelEnabled('http');
  }

  serve<M extends MethodOf<C>>(method: M, handler: RpcHandler<C, M>): this {
    rpcQueue(this.options.prefix, method); // validates the name early
    // Checked without narrowing `contract`: narrowing would widen it to any method's schemas.
    if (!Object.hasOwn(this.options.contracts, method)) throw new Error(`${method} has no entry in the contract map: say what it takes, what it answers and who may call it`);
    this.handlers.set(method, this.checked<C[M]['request'], C[M]['reply']>(method, contractOf(this.options.contracts, method), handler));
    return this;
  }

  /** `handler` with its request parsed before and its answer checked after. */
  private checked<Request extends z.ZodType, Reply extends z.ZodType>(
    method: string,
    contract: { request: Request; reply: Reply },
    handler: (payload: z.output<Request>, ctx: RpcContext) => Promise<z.input<Reply>>,
  ): CheckedHandler {
    return async (payload, ctx) => {
      const result = await handler(validate(contract.request, payload, 'message'), ctx);
      const checked = contract.reply.safeParse(result);
      if (!checked.success) {
        this.options.logger.error('rpc handler answered what its contract does not allow (a bug)', { method, issues: checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
        throw problem('internal_error');
      }
      // What the handler returned, as it returned it: the caller parses it with the same schema.
      return result;
    };
  }

  async start(): Promise<void> {
    const queues = new Set([...this.handlers.keys()].map((m) => rpcQueue(this.options.prefix, m)));
    const dlx = await ensureDeadLetter(this.broker, this.options.prefix);
    // One channel per queue: a queue whose leader is unavailable holds up only its own methods.
    for (const queue of queues) {
      if (this.stopping) return;
      const channel = await ManagedChannel.open(this.broker, {
        name: `rpc server ${queue}`,
        prefetch: this.options.prefetch ?? 32,
        setup: async (ctx) => void (await declareQuorumQueue(ctx.channel, queue, { 'x-dead-letter-exchange': dlx })),
      });
      this.channels.push(channel);
      // Requests a gateway of the previous release sends to the classic queue are still answered.
      await channel.consume(queue, (delivery) => void this.handle(channel, delivery), { legacy: true });
    }
  }

  /** Stops taking requests, lets the ones in progress finish and reply, then closes the channels. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const channels = this.channels.splice(0);
    for (const channel of channels) await channel.cancelConsumers();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    for (const channel of channels) await channel.close();
  }

  private async handle(channel: ManagedChannel, msg: Delivery): Promise<void> {
    this.inFlight++;
    try {
      await this.dispatch(channel, msg);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private async dispatch(channel: ManagedChannel, msg: Delivery): Promise<void> {
    const { logger } = this.options;
    const started = Date.now();
    const method = String(msg.properties.type ?? '');
    const headers: Record<string, unknown> = msg.properties.headers ?? {};
    const context = contextFromHeaders(headers, String(msg.properties.correlationId ?? 'unknown'));
    const { requestId } = context;
    await runWithContext(context, async () => {
      if (msg.content.length > MAX_RPC_MESSAGE_BYTES) {
        // No client of ours sends one (RpcClient refuses to): not parsed, not verified, not kept.
        logger.error('oversized rpc request dropped', { method, bytes: msg.content.length });
        rpcHandled.inc({ method, outcome: 'too_large' });
        msg.settle('ack');
        return;
      }
      const deadline = Number(headers[HEADER_DEADLINE]);
      if (Number.isFinite(deadline) && Date.now() > deadline) {
        // The caller has already answered its client with a timeout; doing the work now would surprise them.
        logger.warn('rpc request skipped: caller gave up', { method });
        rpcHandled.inc({ method, outcome: 'expired' });
        msg.settle('ack');
        return;
      }
      const replyTo = String(msg.properties.replyTo ?? '');
      const caller = this.options.identity.senderOf(headers, requestFacts(method, String(msg.properties.correlationId ?? ''), String(headers[HEADER_DEADLINE] ?? '')), msg.content);
      if (!caller || (replyTo && !replyTo.startsWith(DIRECT_REPLY_TO))) {
        // Not from a service that holds a key (or asking for its answer to go elsewhere): not obeyed, not answered.
        logger.error('unsigned or forged rpc request rejected to the dead-letter queue', { method, sender: String(headers['x-sender'] ?? '') });
        rpcHandled.inc({ method, outcome: 'forged' });
        msg.settle('dead-letter');
        return;
      }
      const handler = this.handlers.get(method);
      const envelope = parseEnvelope(msg);
      if (!handler || !envelope) {
        const refusal = handler ? problem('invalid_message') : problem('unknown_method', method);
        logger.error('invalid rpc request rejected to the dead-letter queue', { method, code: refusal.code });
        this.reply(channel, msg, { ok: false, error: refusal.toJSON() });
        rpcHandled.inc({ method, outcome: refusal.code });
        msg.settle('dead-letter');
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
      msg.settle(invalidPayload ? 'dead-letter' : 'ack');
    });
  }

  /** The caller must be allowed for the method; the person comes from a token verified here, or a backend service's word. */
  private async actorOf(method: string, caller: ServiceName, envelope: RequestEnvelope): Promise<TokenActor | Actor | null> {
    if (!this.options.contracts[method]?.callers.includes(caller)) throw problem('caller_not_allowed', 'method', caller, method);
    if (envelope.token) {
      const actor = this.options.tokens.verify(envelope.token);
      await this.options.revocations?.(actor);
      return actor;
    }
    if (envelope.onBehalfOf) {
      if (caller === 'api-gateway') throw problem('caller_not_allowed', 'gatewayVouching');
      return envelope.onBehalfOf;
    }
    return null;
  }

  private reply(channel: ManagedChannel, msg: Delivery, reply: ReplyEnvelope): void {
    const { replyTo, correlationId } = msg.properties;
    if (!replyTo) return;
    let body = Buffer.from(JSON.stringify(reply));
    if (body.length > MAX_RPC_MESSAGE_BYTES) {
      // The broker would close this channel over it, failing every request in flight on it.
      this.options.logger.error('rpc reply too large; answered with an error instead', { method: String(msg.properties.type ?? ''), bytes: body.length });
      body = Buffer.from(JSON.stringify({ ok: false, error: problem('reply_too_large').toJSON() } satisfies ReplyEnvelope));
    }
    const headers = this.options.identity.headers(replyFacts(String(correlationId ?? '')), body);
    // Never kept for a later connection: the caller's reply-to went with this one, so it times out or sees a 503.
    channel.sendToQueue(String(replyTo), body, { correlationId, contentType: 'application/json', headers }, { waitForBroker: false }).catch(() => undefined);
  }
}

function parseEnvelope(msg: Delivery): RequestEnvelope | undefined {
  try {
    const parsed = requestEnvelopeSchema.safeParse(JSON.parse(msg.content.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
