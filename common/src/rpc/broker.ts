import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger';

/** Declares topology and consumers on a fresh connection; runs again after every reconnect. */
export type Setup = (connection: ChannelModel) => Promise<void>;

export interface BrokerOptions {
  url: string;
  logger: Logger;
  /** Shown in the RabbitMQ management UI as the connection name. */
  name: string;
}

const MAX_BACKOFF_MS = 5000;

/**
 * One AMQP connection per process that heals itself: after a broker restart it reconnects with
 * backoff and replays every registered setup (exchanges, queues, consumers), so callers never
 * restart the process. Modelled on amqp-connection-manager's setup functions.
 */
export class Broker {
  private connection: ChannelModel | undefined;
  private readonly setups: Setup[] = [];
  private readonly disconnectListeners: (() => void)[] = [];
  private closing = false;
  private connectLoop: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: BrokerOptions) {
    this.logger = options.logger;
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  /** Connects (retrying until it succeeds or `close` is called) and runs every setup. */
  start(): Promise<void> {
    this.closing = false;
    this.connectLoop ??= this.connectWithRetry().finally(() => (this.connectLoop = undefined));
    return this.connectLoop;
  }

  /** Registers a setup; runs it at once when already connected. */
  async onConnect(setup: Setup): Promise<void> {
    this.setups.push(setup);
    if (this.connection) await setup(this.connection);
  }

  onDisconnect(listener: () => void): void {
    this.disconnectListeners.push(listener);
  }

  /** Drops the connection so that it is re-established with every setup run again. */
  reset(reason: string): void {
    const connection = this.connection;
    if (!connection) return;
    this.logger.warn('resetting broker connection', { reason });
    connection.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }

  private async connectWithRetry(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      try {
        await this.connectOnce();
        if (attempt > 0) this.logger.info('broker reconnected', { attempts: attempt + 1 });
        return;
      } catch (err) {
        const delay = Math.min(250 * 2 ** Math.min(attempt, 5), MAX_BACKOFF_MS);
        if (attempt % 5 === 0) this.logger.warn('broker not reachable, retrying', { err: (err as Error).message, delayMs: delay });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const url = new URL(this.options.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '10');
    // Nagle's algorithm delays small RPC frames; turning it off roughly doubles RPC throughput.
    const connection = await amqp.connect(url.toString(), {
      noDelay: true,
      timeout: 2000,
      clientProperties: { connection_name: this.options.name },
    });
    connection.on('error', (err: Error) => this.logger.warn('broker connection error', { err: err.message }));
    connection.on('close', () => this.onClose(connection));
    try {
      for (const setup of this.setups) await setup(connection);
    } catch (err) {
      connection.removeAllListeners('close');
      await connection.close().catch(() => undefined);
      throw err;
    }
    this.connection = connection;
  }

  private onClose(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    for (const listener of this.disconnectListeners) listener();
    if (this.closing) return;
    this.logger.warn('broker connection lost, reconnecting');
    void this.start();
  }
}

/** A channel whose unexpected close resets the whole connection, so topology is declared again. */
export async function createManagedChannel(connection: ChannelModel, broker: Broker, what: string): Promise<Channel> {
  const channel = await connection.createChannel();
  watchChannel(channel, broker, what);
  return channel;
}

export function watchChannel(channel: Channel, broker: Broker, what: string): void {
  let closedOnPurpose = false;
  const close = channel.close.bind(channel);
  channel.close = async () => {
    closedOnPurpose = true;
    await close();
  };
  channel.on('error', () => undefined);
  channel.on('close', () => {
    if (!closedOnPurpose) broker.reset(`${what} channel closed`);
  });
}

export function deadLetterExchange(prefix: string): string {
  return `${prefix}.dead-letter`;
}

/** Every queue dead-letters here: rejected (invalid) messages are kept for inspection, bounded. */
export async function declareDeadLetter(channel: Channel, prefix: string): Promise<string> {
  const exchange = deadLetterExchange(prefix);
  await channel.assertExchange(exchange, 'fanout', { durable: true });
  await channel.assertQueue(exchange, { durable: true, arguments: { 'x-max-length': 10_000, 'x-queue-type': 'classic' } });
  await channel.bindQueue(exchange, exchange, '');
  return exchange;
}

/**
 * Acknowledges, dead-letters or requeues a delivery. If its channel has closed meanwhile (a broker
 * restart, a shutdown), the broker has already put the message back, so there is nothing left to do —
 * and amqplib's throw must not escape into a timer or a promise nobody awaits.
 */
export function settleDelivery(channel: Channel, msg: ConsumeMessage, outcome: 'ack' | 'dead-letter' | 'requeue'): void {
  try {
    if (outcome === 'ack') channel.ack(msg);
    else channel.nack(msg, false, outcome === 'requeue');
  } catch {
    // channel closed: the delivery is already back in its queue
  }
}
