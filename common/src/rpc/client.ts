import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor, ServiceIdentity } from '../auth';
import { methodOwner } from '../contracts/callers';
import type { MethodOf, ReplyOf, RequestOf, RpcContractMap, RpcMethods } from '../contracts/rpc';
import { AppError, problem } from '../errors';
import { currentContext, type Logger } from '../logger';
import { type Broker, BrokerUnavailableError, type Delivery, ManagedChannel, PublishRefusedError, type ReturnedMessage } from '../messaging';
import { contextHeaders } from '../messaging/context';
import { rpcDuration } from '../metrics';
import { contractOf, DIRECT_REPLY_TO, HEADER_DEADLINE, MAX_RPC_MESSAGE_BYTES, replyFacts, type ReplyEnvelope, type RequestEnvelope, requestFacts, rpcQueue } from './envelope';

interface PendingCall {
  method: string;
  /** Resolves the call with the result, if its method's contract allows it; false if it does not. */
  deliver(result: unknown): boolean;
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

export interface RpcClientOptions<C extends RpcContractMap> {
  prefix: string;
  timeoutMs: number;
  logger: Logger;
  /** Signs every request; replies are accepted only when signed by the service that serves the method. */
  identity: ServiceIdentity;
  /** The methods this client may call, with their schemas: `contracts.rpcMethods`, or a test's own. */
  contracts: C;
}

const brokerUnavailable = (): AppError => problem('broker_unavailable', 'unreachable');

/**
 * Request/reply over RabbitMQ. Replies come back on the direct reply-to pseudo-queue of one managed
 * channel per process; every call waiting for one sits in `pending` until its reply or its timeout.
 * Each request expires in the queue when the caller stops waiting, so it is never executed late.
 *
 * Unlike the outbox relay and delayed messages, a call never waits for an absent broker: an
 * interactive caller (a person behind the gateway) gets a 503 `broker_unavailable` at once instead of
 * a hang, and a request is never sent again on a new channel, where its reply could not reach it.
 */
export class RpcClient<C extends RpcContractMap = RpcMethods> {
  private channel: ManagedChannel | undefined;
  private readonly pending = new Map<string, PendingCall>();

  constructor(
    private readonly broker: Broker,
    private readonly options: RpcClientOptions<C>,
  ) {}

  async start(): Promise<void> {
    const channel = await ManagedChannel.open(this.broker, {
      name: 'rpc client',
      // A request to a queue nobody declared comes back here at once instead of timing out.
      onReturn: (msg: ReturnedMessage) => this.settle(String(msg.properties.correlationId ?? ''), unavailableService(msg.properties.type)),
      // Replies come back on this channel's reply-to: whoever waits for one now will never get it.
      onLost: () => this.failAll(problem('broker_unavailable', 'lost')),
    });
    await channel.consume(DIRECT_REPLY_TO, (delivery) => this.onReply(delivery), { noAck: true });
    this.channel = channel;
  }

  call<M extends MethodOf<C>>(method: M, payload: RequestOf<C, M>, options: CallOptions): Promise<ReplyOf<C, M>> {
    const channel = this.channel;
    if (!channel?.ready) return Promise.reject(brokerUnavailable());
    // Checked without narrowing `contract`: narrowing would widen it to any method's schemas.
    if (!Object.hasOwn(this.options.contracts, method)) return Promise.reject(problem('internal_error'));
    const reply: C[M]['reply'] = contractOf(this.options.contracts, method).reply;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const correlationId = randomUUID();
    const ctx = currentContext();
    const envelope: RequestEnvelope = { payload, ...(options.token ? { token: options.token } : {}), ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}) };
    const body = Buffer.from(JSON.stringify(envelope));
    if (body.length > MAX_RPC_MESSAGE_BYTES) {
      return Promise.reject(problem('payload_too_large', 'rpc', serviceOf(method)));
    }
    const deadline = Date.now() + timeoutMs;
    return new Promise<ReplyOf<C, M>>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(correlationId, problem('upstream_timeout', serviceOf(method), timeoutMs)),
        timeoutMs,
      );
      this.pending.set(correlationId, {
        method,
        deliver: (result) => {
          const parsed = z.safeParse<C[M]['reply']>(reply, result);
          if (parsed.success) resolve(parsed.data);
          return parsed.success;
        },
        reject,
        timer,
        stopTimer: rpcDuration.startTimer(),
      });
      channel
        .publish(
          '',
          rpcQueue(this.options.prefix, method),
          body,
          {
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
          },
          { waitForBroker: false, timeoutMs },
        )
        .catch((err: unknown) => {
          // Refused by the broker (the queue has no leader, or is full): the request was never queued.
          // The channel lost meanwhile is already answered by onLost; a confirm later than the call's own
          // timeout by the timer.
          if (err instanceof PublishRefusedError) this.settle(correlationId, unavailableService(method));
          else if (err instanceof BrokerUnavailableError) this.settle(correlationId, brokerUnavailable());
        });
    });
  }

  /** Fails every waiting call; used at shutdown. */
  async close(): Promise<void> {
    this.failAll(problem('shutting_down'));
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private onReply(msg: Delivery): void {
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
      this.options.logger.error('unreadable rpc reply dropped', { correlationId });
      return;
    }
    if (!reply.ok) {
      this.settle(correlationId, AppError.fromJSON(reply.error));
      return;
    }
    this.settle(correlationId, { result: reply.result });
  }

  private settle(correlationId: string, outcome: { result: unknown } | AppError): void {
    const call = this.pending.get(correlationId);
    if (!call) return; // a late reply after a timeout: nobody is waiting any more
    this.pending.delete(correlationId);
    clearTimeout(call.timer);
    if (outcome instanceof AppError) {
      call.stopTimer({ method: call.method, outcome: outcome.status >= 500 ? outcome.code : 'error' });
      call.reject(outcome);
    } else if (call.deliver(outcome.result)) {
      call.stopTimer({ method: call.method, outcome: 'ok' });
    } else {
      // A genuine reply its contract does not allow: a bug on one side or the other, never passed on unchecked.
      this.options.logger.error('rpc reply does not match its contract', { method: call.method, correlationId });
      call.stopTimer({ method: call.method, outcome: 'upstream_invalid_reply' });
      call.reject(problem('upstream_invalid_reply', serviceOf(call.method)));
    }
  }

  private failAll(err: AppError): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}

const serviceOf = (method: string): string => method.split('.')[0] ?? method;

function unavailableService(method: unknown): AppError {
  return problem('service_unavailable', 'service', String(method ?? '').split('.')[0] || 'requested');
}
