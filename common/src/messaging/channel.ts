import type { Channel, ConfirmChannel, ConsumeMessage, Message, MessageFields, MessageProperties, Options } from 'amqplib';
import type { Broker } from './connection';
import { consumeWithLegacy, settleDelivery } from './queues';

export type PublishOptions = Options.Publish;
/** What a delivery's handler decides: done, kept in the dead-letter queue, or put back for another try. */
export type Settlement = 'ack' | 'dead-letter' | 'requeue';

/** One message from a queue, with the one way to settle it. */
export interface Delivery {
  readonly content: Buffer;
  readonly properties: MessageProperties;
  readonly fields: MessageFields;
  /**
   * Acknowledges, dead-letters or requeues it (after `delayMs`, so a failing handler is not hammered).
   * Settling a delivery whose channel has closed meanwhile does nothing: the broker has put it back.
   */
  settle(outcome: Settlement, delayMs?: number): void;
}

/** A mandatory publish that no queue could take, as the broker sent it back. */
export type ReturnedMessage = Message;

export interface ConsumeOptions {
  /** The broker forgets a delivery as it sends it (direct reply-to); `settle` is then a no-op. */
  noAck?: boolean;
  /**
   * Also consume, while it exists, the classic queue an earlier release used in place of this quorum
   * queue; with `unbind`, that queue is first unbound so new messages reach only the quorum queue.
   */
  legacy?: boolean | { exchange: string; patterns: readonly string[] };
}

/** What a channel's setup may use to declare its topology. */
export interface SetupContext {
  channel: Channel;
  /** Whether a queue exists (asked on a throwaway channel: the broker closes one that asks about a missing queue). */
  exists(queue: string): Promise<boolean>;
}

export interface ManagedChannelOptions {
  /** Names the channel in logs and in the broker's `degraded` list. */
  name: string;
  /** Declares what this channel needs (exchanges, queues, bindings); runs before its consumers and buffered publishes, on every connection. */
  setup?: (ctx: SetupContext) => Promise<void>;
  /** Deliveries unsettled at once on this channel (RabbitMQ's basic.qos); unlimited when absent. */
  prefetch?: number;
  /** Publishes that may wait for the broker; one more is refused at once with `PublishBufferFullError`. */
  maxBuffered?: number;
  /** How long a publish may wait for the broker's confirm (including time spent waiting for the broker). */
  publishTimeoutMs?: number;
  /** A mandatory publish nobody could route came back. */
  onReturn?: (msg: ReturnedMessage) => void;
  /** The channel was lost (a broker restart, a channel error): whatever waited for answers on it gets none. */
  onLost?: () => void;
  /** The channel is (again) set up, its consumers running and what waited sent. */
  onReady?: () => void;
}

export interface SendOptions {
  /**
   * `false`: refuse at once with `BrokerUnavailableError` while the broker is away instead of waiting
   * for it (an interactive caller cannot wait). Also not sent again if the channel is lost before the
   * broker confirms it.
   */
  waitForBroker?: boolean;
  /** Overrides the channel's `publishTimeoutMs`. */
  timeoutMs?: number;
}

/** Why a publish did not go out; `name` is the subclass's, for logs. */
abstract class PublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class BrokerUnavailableError extends PublishError {
  constructor(channel: string) {
    super(`the broker is not reachable (channel ${channel})`);
  }
}

export class PublishBufferFullError extends PublishError {
  constructor(channel: string, size: number) {
    super(`${size} messages already wait for the broker on channel ${channel}; this one was refused`);
  }
}

/** The broker refused the message (a quorum queue without a leader, a full queue that rejects publishes). */
export class PublishRefusedError extends PublishError {
  constructor(channel: string) {
    super(`the broker refused the message (channel ${channel})`);
  }
}

export class PublishTimeoutError extends PublishError {
  constructor(channel: string, ms: number) {
    super(`no confirm from the broker within ${ms} ms (channel ${channel})`);
  }
}

const DEFAULT_MAX_BUFFERED = 1000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

interface Consumer {
  queue: string | (() => string);
  onDelivery: (delivery: Delivery) => void;
  options: ConsumeOptions;
}

interface Publication {
  exchange: string;
  routingKey: string;
  content: Buffer;
  /** A function when some of them (an expiration, say) depend on when it is finally sent. */
  options: PublishOptions | (() => PublishOptions);
  wait: boolean;
  /** The channel it was last written to, until confirmed. */
  sentOn: ConfirmChannel | undefined;
  done: boolean;
  timer: NodeJS.Timeout;
  resolve(): void;
  reject(err: Error): void;
}

/** The channel of one connection, with what was set up on it. */
interface Live {
  channel: ConfirmChannel;
  tags: Map<Consumer, string[]>;
  exists(queue: string): Promise<boolean>;
}

/**
 * A channel that outlives connections, modelled on amqp-connection-manager's ChannelWrapper. It owns
 * its setup (topology, prefetch) and its consumers, and runs them again on every new connection (and
 * whenever the broker closes the channel). Publishes resolve when the broker confirms them; made while
 * the broker is away, they wait in a bounded buffer and go out, in order, once setup has run again.
 */
export class ManagedChannel {
  private live: Live | undefined;
  private readonly consumers: Consumer[] = [];
  /** Not yet written to the current channel, oldest first. */
  private readonly buffer: Publication[] = [];
  private readonly unconfirmed = new Set<Publication>();
  private unregister: (() => void) | undefined;
  private closed = false;
  private readonly maxBuffered: number;
  private readonly publishTimeoutMs: number;

  private constructor(private readonly options: ManagedChannelOptions) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  }

  /** Registers the channel with the connection; it opens now if the broker is connected, else when it is. */
  static async open(broker: Broker, options: ManagedChannelOptions): Promise<ManagedChannel> {
    const managed = new ManagedChannel(options);
    managed.unregister = await broker.onConnect((scope) => managed.setUp(scope.confirmChannel(), (queue) => scope.exists(queue)), options.name);
    return managed;
  }

  /** Whether the channel is open and set up now: a publish would go out at once. */
  get ready(): boolean {
    return this.live !== undefined;
  }

  /** Publishes waiting for the broker or for its confirm. */
  get pending(): number {
    return this.buffer.length + this.unconfirmed.size;
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: PublishOptions | (() => PublishOptions) = {}, send: SendOptions = {}): Promise<void> {
    const wait = send.waitForBroker ?? true;
    if (this.closed) return Promise.reject(new BrokerUnavailableError(this.options.name));
    if (!this.live && !wait) return Promise.reject(new BrokerUnavailableError(this.options.name));
    if ((!this.live || this.buffer.length) && this.buffer.length >= this.maxBuffered) {
      return Promise.reject(new PublishBufferFullError(this.options.name, this.buffer.length));
    }
    const timeoutMs = send.timeoutMs ?? this.publishTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const publication: Publication = {
        exchange,
        routingKey,
        content,
        options,
        wait,
        sentOn: undefined,
        done: false,
        timer: setTimeout(() => this.finish(publication, new PublishTimeoutError(this.options.name, timeoutMs)), timeoutMs),
        resolve,
        reject,
      };
      publication.timer.unref();
      if (this.live && !this.buffer.length) this.write(publication, this.live);
      else this.buffer.push(publication);
    });
  }

  sendToQueue(queue: string, content: Buffer, options: PublishOptions | (() => PublishOptions) = {}, send: SendOptions = {}): Promise<void> {
    return this.publish('', queue, content, options, send);
  }

  /**
   * Consumes `queue` now (if the channel is up) and again on every new connection. `queue` may be a
   * function for a queue whose name the setup learns (a server-named private queue).
   */
  async consume(queue: string | (() => string), onDelivery: (delivery: Delivery) => void, options: ConsumeOptions = {}): Promise<void> {
    const consumer: Consumer = { queue, onDelivery, options };
    this.consumers.push(consumer);
    const live = this.live;
    if (live) await this.startConsumer(live, consumer);
  }

  /** Stops every consumer (deliveries in progress may still be settled); publishing goes on. */
  async cancelConsumers(): Promise<void> {
    const consumers = this.consumers.splice(0);
    const live = this.live;
    if (!live) return;
    for (const consumer of consumers) {
      for (const tag of live.tags.get(consumer) ?? []) await live.channel.cancel(tag).catch(() => undefined);
      live.tags.delete(consumer);
    }
  }

  /**
   * Closes the channel for good. Unsettled deliveries go back to their queues; publishes still waiting
   * are refused.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.consumers.splice(0);
    for (const publication of [...this.buffer, ...this.unconfirmed]) this.finish(publication, new BrokerUnavailableError(this.options.name));
    const live = this.live;
    this.live = undefined;
    this.unregister?.();
    await live?.channel.close().catch(() => undefined);
  }

  private async setUp(opening: Promise<ConfirmChannel>, exists: (queue: string) => Promise<boolean>): Promise<() => void> {
    const channel = await opening;
    if (this.options.onReturn) channel.on('return', this.options.onReturn);
    if (this.options.prefetch !== undefined) await channel.prefetch(this.options.prefetch);
    await this.options.setup?.({ channel, exists });
    const live: Live = { channel, tags: new Map(), exists };
    // Live before the consumers start: a message already waiting is delivered at once, and its handler's
    // answer (an RPC reply, which never waits for a broker) must find the channel open.
    this.live = live;
    this.flush(live);
    try {
      // An array iterator sees what is appended meanwhile: a consumer registered while this runs starts here too.
      for (const consumer of this.consumers) await this.startConsumer(live, consumer);
    } catch (err) {
      this.lost(live);
      throw err;
    }
    this.options.onReady?.();
    return () => this.lost(live);
  }

  private async startConsumer(live: Live, consumer: Consumer): Promise<void> {
    const { channel } = live;
    const queue = typeof consumer.queue === 'function' ? consumer.queue() : consumer.queue;
    const onMessage = (msg: ConsumeMessage): void => consumer.onDelivery(delivery(channel, msg, consumer.options.noAck === true));
    const legacy = consumer.options.legacy;
    const tags = legacy
      ? await consumeWithLegacy({ exists: live.exists }, channel, queue, onMessage, typeof legacy === 'object' ? legacy : undefined)
      : [(await channel.consume(queue, (msg) => msg && onMessage(msg), { noAck: consumer.options.noAck === true })).consumerTag];
    live.tags.set(consumer, tags);
  }

  /** Writes what waited, in order, while the channel stays the same. */
  private flush(live: Live): void {
    for (let publication = this.buffer.shift(); publication; publication = this.live === live ? this.buffer.shift() : undefined) {
      if (!publication.done) this.write(publication, live);
    }
  }

  private write(publication: Publication, live: Live): void {
    const { channel } = live;
    publication.sentOn = channel;
    this.unconfirmed.add(publication);
    const options = typeof publication.options === 'function' ? publication.options() : publication.options;
    try {
      channel.publish(publication.exchange, publication.routingKey, publication.content, options, (err: unknown) => {
        if (publication.sentOn !== channel) return;
        if (!err) this.finish(publication);
        else if (err instanceof Error && err.message === 'message nacked') this.finish(publication, new PublishRefusedError(this.options.name));
        // Otherwise amqplib is failing what was unconfirmed because the channel closed: not a refusal.
        // `lost` sends these again, oldest first, once the channel is back.
      });
    } catch {
      // The channel closed under us (amqplib throws); `lost` sends it again.
    }
  }

  /** Lost before its confirm: sent again on the next channel (at least once), unless its sender cannot wait. */
  private retryOrFail(publication: Publication): void {
    if (publication.done) return;
    if (!publication.wait || this.closed) {
      this.finish(publication, new BrokerUnavailableError(this.options.name));
      return;
    }
    this.buffer.unshift(publication);
    if (this.live) this.flush(this.live);
  }

  private lost(live: Live): void {
    if (this.live !== live) return;
    this.live = undefined;
    // Oldest first, ahead of what was buffered after them.
    const resend = [...this.unconfirmed].filter((p) => p.sentOn === live.channel);
    for (const publication of resend) {
      this.unconfirmed.delete(publication);
      publication.sentOn = undefined;
    }
    for (const publication of resend.reverse()) this.retryOrFail(publication);
    this.options.onLost?.();
  }

  private finish(publication: Publication, err?: Error): void {
    if (publication.done) return;
    publication.done = true;
    clearTimeout(publication.timer);
    this.unconfirmed.delete(publication);
    const index = this.buffer.indexOf(publication);
    if (index >= 0) this.buffer.splice(index, 1);
    if (err) publication.reject(err);
    else publication.resolve();
  }
}

function delivery(channel: Channel, msg: ConsumeMessage, noAck: boolean): Delivery {
  return {
    content: msg.content,
    properties: msg.properties,
    fields: msg.fields,
    settle(outcome, delayMs = 0) {
      if (noAck) return;
      if (delayMs > 0) setTimeout(() => settleDelivery(channel, msg, outcome), delayMs).unref();
      else settleDelivery(channel, msg, outcome);
    },
  };
}
