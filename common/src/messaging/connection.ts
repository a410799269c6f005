import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger';

/** What a setup may open: channels it owns. If one of them closes unexpectedly, the setup runs again. */
export interface SetupScope {
  channel(): Promise<Channel>;
  confirmChannel(): Promise<ConfirmChannel>;
  /** Whether a queue exists, asked on a channel of its own (the broker closes a channel that asks about a missing queue). */
  exists(queue: string): Promise<boolean>;
}

/**
 * Declares a component's topology and consumers. It runs on every new connection, and again on its own
 * whenever it fails or one of its channels closes, without touching the other components. What it
 * returns is called when its channels are gone (to forget them and fail what waited on them).
 */
export type Setup = (scope: SetupScope) => Promise<void | (() => void)>;

export interface BrokerOptions {
  /** One AMQP URL, or the nodes of a cluster separated by commas: each reconnect tries the next. */
  url: string;
  logger: Logger;
  /** Shown in the RabbitMQ management UI as the connection name. */
  name: string;
}

const MAX_BACKOFF_MS = 5000;
/** A declaration or consume the broker does not answer (a quorum queue without a leader) is given up and retried. */
const SETUP_TIMEOUT_MS = 10_000;
const backoff = (attempt: number): number => Math.min(250 * 2 ** Math.min(attempt, 5), MAX_BACKOFF_MS);

interface Registration {
  name: string;
  setup: Setup;
  /** The scope of the run that succeeded on the current connection, if any. */
  active: Scope | undefined;
  failures: number;
  retry: NodeJS.Timeout | undefined;
}

/** One run of a setup on one connection, with the channels it opened. */
class Scope implements SetupScope {
  readonly channels: Channel[] = [];
  dead = false;
  cleanup: (() => void) | undefined;

  constructor(
    readonly connection: ChannelModel,
    private readonly lost: (scope: Scope) => void,
  ) {}

  channel(): Promise<Channel> {
    return this.watch(this.connection.createChannel());
  }

  confirmChannel(): Promise<ConfirmChannel> {
    return this.watch(this.connection.createConfirmChannel());
  }

  async exists(queue: string): Promise<boolean> {
    const probe = await this.connection.createChannel();
    probe.on('error', () => undefined);
    try {
      await probe.checkQueue(queue);
      return true;
    } catch {
      return false;
    } finally {
      probe.close().catch(() => undefined);
    }
  }

  /** Closes every channel of this run on purpose (a failed setup, a lost sibling channel, a shutdown). */
  end(): void {
    if (this.dead) return;
    this.dead = true;
    this.cleanup?.();
    for (const channel of this.channels) channel.close().catch(() => undefined);
  }

  private async watch<C extends Channel>(opening: Promise<C>): Promise<C> {
    const channel = await opening;
    this.channels.push(channel);
    let closedOnPurpose = false;
    const close = channel.close.bind(channel);
    channel.close = async () => {
      closedOnPurpose = true;
      await close();
    };
    // A channel error (a queue whose leader is away, a refused declaration) also closes the channel.
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (!closedOnPurpose && !this.dead) this.lost(this);
    });
    if (this.dead) channel.close().catch(() => undefined);
    return channel;
  }
}

/**
 * One AMQP connection per process that heals itself, modelled on amqp-connection-manager's setup
 * functions. After a broker restart (or the loss of the cluster node it was connected to) it reconnects
 * with backoff, trying the next node each time, and replays every registered setup. Each setup stands
 * alone: one that fails (a quorum queue whose leader is unavailable, say) is retried by itself while the
 * connection and every other component keep working.
 */
export class Broker {
  private connection: ChannelModel | undefined;
  private readonly registrations: Registration[] = [];
  private closing = false;
  private connectLoop: Promise<void> | undefined;
  private readonly urls: string[];
  private nextUrl = 0;
  private readonly logger: Logger;

  constructor(private readonly options: BrokerOptions) {
    this.logger = options.logger;
    this.urls = options.url.split(',').map((u) => u.trim()).filter(Boolean);
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  /** Setups that are not running on the current connection (failed and waiting for their retry). */
  get degraded(): string[] {
    if (!this.connection) return this.registrations.map((r) => r.name);
    return this.registrations.filter((r) => !r.active).map((r) => r.name);
  }

  /** Connects (retrying until it succeeds or `close` is called) and runs every setup once. */
  start(): Promise<void> {
    this.closing = false;
    this.connectLoop ??= this.connectWithRetry().finally(() => (this.connectLoop = undefined));
    return this.connectLoop;
  }

  /**
   * Registers a setup; runs it at once when already connected. Its failures are retried, never thrown.
   * Resolves to a function that removes the setup again and closes the channels it opened.
   */
  async onConnect(setup: Setup, name = 'setup'): Promise<() => void> {
    const registration: Registration = { name, setup, active: undefined, failures: 0, retry: undefined };
    this.registrations.push(registration);
    if (this.connection) await this.run(registration, this.connection);
    return () => {
      const index = this.registrations.indexOf(registration);
      if (index < 0) return;
      this.registrations.splice(index, 1);
      clearTimeout(registration.retry);
      registration.active?.end();
      registration.active = undefined;
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const registration of this.registrations) {
      clearTimeout(registration.retry);
      registration.active?.end();
      registration.active = undefined;
    }
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }

  private async connectWithRetry(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      const url = this.urls[this.nextUrl++ % this.urls.length] ?? 'amqp://localhost';
      try {
        await this.connectOnce(url);
        // Lost again while the setups ran (its close handler found this loop still running): go round again.
        if (!this.connection) throw new Error('the connection closed during setup');
        if (attempt > 0) this.logger.info('broker reconnected', { attempts: attempt + 1, node: new URL(url).host });
        return;
      } catch (err) {
        const delay = this.urls.length > 1 && attempt % this.urls.length !== this.urls.length - 1 ? 0 : backoff(attempt);
        if (attempt % 5 === 0) this.logger.warn('broker not reachable, retrying', { err: (err as Error).message, node: new URL(url).host, delayMs: delay });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async connectOnce(rawUrl: string): Promise<void> {
    const url = new URL(rawUrl);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '10');
    // Nagle's algorithm delays small RPC frames; turning it off roughly doubles RPC throughput.
    const connection = await amqp.connect(url.toString(), {
      noDelay: true,
      timeout: 2000,
      clientProperties: { connection_name: this.options.name },
    });
    connection.on('error', (err: Error) => this.logger.warn('broker connection error', { err: err.message }));
    connection.on('close', () => this.onClose(connection));
    this.connection = connection;
    // Side by side: a setup that waits (a queue electing its leader) holds up nobody else.
    await Promise.all(this.registrations.map((registration) => this.run(registration, connection)));
  }

  /** Runs one setup on `connection`; a failure ends that run's channels and schedules a retry. */
  private async run(registration: Registration, connection: ChannelModel): Promise<void> {
    clearTimeout(registration.retry);
    registration.retry = undefined;
    if (this.closing || this.connection !== connection || registration.active?.connection === connection || !this.registrations.includes(registration)) return;
    const scope = new Scope(connection, (lost) => this.onScopeLost(registration, lost));
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = registration.setup(scope).then((cleanup) => {
        // Finished after it was given up on: its channels are closed already; let it forget them.
        if (scope.dead) cleanup?.();
        return cleanup;
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the broker within ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
      });
      scope.cleanup = (await Promise.race([running, timeout])) ?? undefined;
      if (scope.dead) throw new Error('a channel closed during setup');
      // Removed while it ran: nobody wants its channels any more.
      if (!this.registrations.includes(registration)) {
        scope.end();
        return;
      }
      registration.active = scope;
      if (registration.failures > 0) this.logger.info('broker setup recovered', { setup: registration.name, attempts: registration.failures + 1 });
      registration.failures = 0;
    } catch (err) {
      scope.end();
      this.retryLater(registration, connection, err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private onScopeLost(registration: Registration, scope: Scope): void {
    scope.end();
    if (registration.active === scope) registration.active = undefined;
    // When the whole connection is going, its close handler reconnects and replays everything.
    setImmediate(() => {
      if (this.connection === scope.connection) this.retryLater(registration, scope.connection, 'a channel closed');
    });
  }

  private retryLater(registration: Registration, connection: ChannelModel, reason: string): void {
    if (this.closing || this.connection !== connection || registration.retry) return;
    const delay = backoff(registration.failures++);
    if (registration.failures % 5 === 1) this.logger.warn('broker setup failed; retrying it alone', { setup: registration.name, err: reason, delayMs: delay });
    registration.retry = setTimeout(() => void this.run(registration, connection), delay);
    registration.retry.unref();
  }

  private onClose(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    for (const registration of this.registrations) {
      clearTimeout(registration.retry);
      registration.retry = undefined;
      registration.active?.end();
      registration.active = undefined;
    }
    if (this.closing) return;
    this.logger.warn('broker connection lost, reconnecting');
    void this.start();
  }
}
