import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Actor, ServiceIdentity } from '../auth';
import { methodOwner } from '../contracts/callers';
import { AppError } from '../errors';
import { currentContext, type Logger } from '../logger';
import { rpcDuration } from '../metrics';
import type { Broker } from './broker';
import { contextHeaders, DIRECT_REPLY_TO, HEADER_DEADLINE, MAX_RPC_MESSAGE_BYTES, replyFacts, type ReplyEnvelope, type RequestEnvelope, requestFacts, rpcQueue } from './envelope';

interface PendingCall {
  method: string;
  resolve(value: unknown): void;
  reject(err: AppError): void;
  timer: NodeJS.Timeout;
  stopTimer: (labels: { method: string; outcome: string }) => void;
}

export interface CallOptions {
  /** The end user's access token, forwarded for the serving service to verify itself. */
  token?: string | null | undefined;
  /** For service-only methods: the person this service acts for (refused when the gateway sends it). */
  onBehalfOf?: Actor | null | undefined;
  timeoutMs?: number;
}

export interface RpcClientOptions {
  prefix: string;
  timeoutMs: number;
  logger: Logger;
  /** Signs every request; replies are accepted only when signed by the service that serves the method. */
  identity: ServiceIdentity;
}

/**
 * Request/reply over RabbitMQ. Replies come back on the direct reply-to pseudo-queue of one channel
 * per process; every call waiting for one sits in `pending` until its reply or its timeout.
 * Each request expires in the queue when the caller stops waiting, so it is never executed late.
 */
export class RpcClient {
  private channel: ConfirmChannel | undefined;
  private readonly pending = new Map<string, PendingCall>();

  constructor(
    private readonly broker: Broker,
    private readonly options: RpcClientOptions,
  ) {}

  async start(): Promise<void> {
    await this.broker.onConnect(async (scope) => {
      // Confirms tell at once when a queue cannot take a request (a quorum queue without a leader).
      const channel = await scope.confirmChannel();
      // A request to a queue nobody declared comes back here at once instead of timing out.
      channel.on('return', (msg: ConsumeMessage) => this.settle(msg.properties.correlationId as string, unavailableService(msg)));
      await channel.consume(DIRECT_REPLY_TO, (msg) => msg && this.onReply(msg), { noAck: true });
      this.channel = channel;
      return () => {
        if (this.channel === channel) this.channel = undefined;
        // Replies come back on this channel's reply-to: whoever waits for one now will never get it.
        this.failAll(new AppError(503, 'broker_unavailable', 'The message broker connection was lost; the outcome of the request is unknown. Please try again.'));
      };
    }, 'rpc client');
  }

  call<T = unknown>(method: string, payload: unknown, options: CallOptions): Promise<T> {
    const channel = this.channel;
    if (!channel) {
      return Promise.reject(new AppError(503, 'broker_unavailable', 'The message broker is not reachable right now. Please try again shortly.'));
    }
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const correlationId = randomUUID();
    const ctx = currentContext();
    const envelope: RequestEnvelope = { payload, ...(options.token ? { token: options.token } : {}), ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}) };
    const body = Buffer.from(JSON.stringify(envelope));
    if (body.length > MAX_RPC_MESSAGE_BYTES) {
      return Promise.reject(new AppError(413, 'payload_too_large', `The request is too large to pass to the ${method.split('.')[0]} service.`));
    }
    const deadline = Date.now() + timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(correlationId, new AppError(504, 'upstream_timeout', `The ${method.split('.')[0]} service did not answer within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      this.pending.set(correlationId, { method, resolve: resolve as (v: unknown) => void, reject, timer, stopTimer: rpcDuration.startTimer() });
      channel.publish('', rpcQueue(this.options.prefix, method), body, {
        correlationId,
        replyTo: DIRECT_REPLY_TO,
        type: method,
        contentType: 'application/json',
        expiration: String(timeoutMs),
        mandatory: true,
        headers: {
          [HEADER_DEADLINE]: deadline,
          ...contextHeaders(ctx),
          ...this.options.identity.headers(requestFacts(method, correlationId, deadline), body),
        },
      }, (err: unknown) => {
        // Refused by the broker (the queue has no leader, or is full): the request was never queued.
        if (err) this.settle(correlationId, unavailableService({ properties: { type: method } }));
      });
    });
  }

  /** Fails every waiting call; used at shutdown. */
  async close(): Promise<void> {
    this.failAll(new AppError(503, 'shutting_down', 'The gateway is shutting down.'));
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private onReply(msg: ConsumeMessage): void {
    const correlationId = String(msg.properties.correlationId ?? '');
    const call = this.pending.get(correlationId);
    if (!call) return;
    // Only the service that serves the method may answer it: a forged reply is dropped, and the real one still counts.
    if (this.options.identity.senderOf(msg.properties.headers, replyFacts(correlationId), msg.content) !== methodOwner(call.method)) {
      this.options.logger.error('rpc reply with a missing or wrong signature dropped', { method: call.method, correlationId });
      return;
    }
    let reply: ReplyEnvelope;
    try {
      reply = JSON.parse(msg.content.toString('utf8')) as ReplyEnvelope;
    } catch {
      this.options.logger.error('unreadable rpc reply dropped', { correlationId: msg.properties.correlationId });
      return;
    }
    this.settle(msg.properties.correlationId as string, reply.ok ? { value: reply.result } : AppError.fromJSON(reply.error));
  }

  private settle(correlationId: string, outcome: { value: unknown } | AppError): void {
    const call = this.pending.get(correlationId);
    if (!call) return; // a late reply after a timeout: nobody is waiting any more
    this.pending.delete(correlationId);
    clearTimeout(call.timer);
    if (outcome instanceof AppError) {
      call.stopTimer({ method: call.method, outcome: outcome.status >= 500 ? outcome.code : 'error' });
      call.reject(outcome);
    } else {
      call.stopTimer({ method: call.method, outcome: 'ok' });
      call.resolve(outcome.value);
    }
  }

  private failAll(err: AppError): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}

function unavailableService(msg: { properties: { type?: unknown } }): AppError {
  const service = String(msg.properties.type ?? '').split('.')[0] || 'requested';
  return new AppError(503, 'service_unavailable', `The ${service} service is not available right now. Please try again shortly.`);
}
