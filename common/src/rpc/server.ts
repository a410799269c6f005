import type { Channel, ConsumeMessage } from 'amqplib';
import type { Actor } from '../auth';
import { AppError, describeError, toAppError } from '../errors';
import { runWithContext, type Logger } from '../logger';
import { rpcHandled } from '../metrics';
import { type Broker, declareDeadLetter, settleDelivery, watchChannel } from './broker';
import { contextFromHeaders, HEADER_DEADLINE, type ReplyEnvelope, requestEnvelopeSchema, rpcQueue } from './envelope';

export interface RpcContext {
  actor: Actor | null;
  requestId: string;
}

export type RpcHandler = (payload: unknown, ctx: RpcContext) => Promise<unknown>;

export interface RpcServerOptions {
  prefix: string;
  logger: Logger;
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
  private channel: Channel | undefined;
  private consumerTags: string[] = [];
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private stopping = false;
  // winston formats a line before its transports drop it by level: decide once, not per request.
  private readonly accessLog: boolean;

  constructor(
    private readonly broker: Broker,
    private readonly options: RpcServerOptions,
  ) {
    this.accessLog = options.logger.isLevelEnabled('http');
  }

  serve(method: string, handler: RpcHandler): this {
    rpcQueue(this.options.prefix, method); // validates the name early
    this.handlers.set(method, handler);
    return this;
  }

  async start(): Promise<void> {
    const queues = new Set([...this.handlers.keys()].map((m) => rpcQueue(this.options.prefix, m)));
    await this.broker.onConnect(async (connection) => {
      if (this.stopping) return;
      const channel = await connection.createChannel();
      watchChannel(channel, this.broker, 'rpc server');
      await channel.prefetch(this.options.prefetch ?? 32);
      const dlx = await declareDeadLetter(channel, this.options.prefix);
      this.consumerTags = [];
      for (const queue of queues) {
        await channel.assertQueue(queue, { durable: true, arguments: { 'x-dead-letter-exchange': dlx } });
        const { consumerTag } = await channel.consume(queue, (msg) => msg && void this.handle(channel, msg));
        this.consumerTags.push(consumerTag);
      }
      this.channel = channel;
    });
  }

  /** Stops taking requests, lets the ones in progress finish and reply, then closes the channel. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const channel = this.channel;
    if (!channel) return;
    for (const tag of this.consumerTags) await channel.cancel(tag).catch(() => undefined);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    this.channel = undefined;
    await channel.close().catch(() => undefined);
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
      const deadline = Number(headers[HEADER_DEADLINE]);
      if (Number.isFinite(deadline) && Date.now() > deadline) {
        // The caller has already answered its client with a timeout; doing the work now would surprise them.
        logger.warn('rpc request skipped: caller gave up', { method });
        rpcHandled.inc({ method, outcome: 'expired' });
        settleDelivery(channel, msg, 'ack');
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
        reply = { ok: true, result: await handler(envelope.payload, { actor: envelope.actor, requestId }) };
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

  private reply(channel: Channel, msg: ConsumeMessage, reply: ReplyEnvelope): void {
    const { replyTo, correlationId } = msg.properties;
    if (!replyTo) return;
    try {
      channel.sendToQueue(replyTo as string, Buffer.from(JSON.stringify(reply)), { correlationId, contentType: 'application/json' });
    } catch {
      // The channel closed under us: the caller's reply queue went with the connection, so it times out or sees a 503.
    }
  }
}

function parseEnvelope(msg: ConsumeMessage): { payload: unknown; actor: Actor | null } | undefined {
  try {
    const parsed = requestEnvelopeSchema.safeParse(JSON.parse(msg.content.toString('utf8')));
    return parsed.success ? { payload: parsed.data.payload, actor: parsed.data.actor } : undefined;
  } catch {
    return undefined;
  }
}
