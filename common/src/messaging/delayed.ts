import type { z } from 'zod';
import { describeError } from '../errors';
import { currentContext, type Logger, runWithContext } from '../logger';
import { retry } from '../jobs';
import { type Delivery, ManagedChannel, type PublishOptions, PublishRefusedError } from './channel';
import type { Broker } from './connection';
import { contextFromHeaders, contextHeaders } from './context';
import { declareQuorumQueue, ensureDeadLetter } from './queues';

export interface DelayedMessagesOptions<S extends z.ZodType> {
  /** Names its channels and the request id of a handling that carries none. */
  name: string;
  /** Its dead-letter exchange is `<prefix>.dead-letter`, like every queue's. */
  prefix: string;
  /**
   * One wait queue per delay (ms). The names belong to the deployment: a queue cannot be redeclared
   * with another TTL, so the delay belongs in its name, and an old one keeps delivering on time.
   */
  waitQueues: ReadonlyMap<number, string>;
  /** The quorum queue every wait queue dead-letters its messages into when they are due. */
  dueQueue: string;
  /** What a message must be; one that is not is dead-lettered unhandled. */
  schema: S;
  logger: Logger;
  /** Messages that may wait for the broker in this process (see ManagedChannel). */
  maxBuffered?: number;
}

/** What a handler decided about a due message. */
export type DueOutcome =
  /** Handled (or nothing to do): acknowledged. */
  | 'done'
  /** Failed for now (a database hiccup): requeued after a pause, not dropped. */
  | 'retry'
  /** Came out a little early (the broker's clock against the database's): tried again after `ms`. */
  | { notDueForMs: number };

export interface DueConsumerOptions {
  prefetch?: number;
  /** The pause before a `retry` is delivered again. */
  retryDelayMs?: number;
  /**
   * A message this early is acknowledged and logged instead of waited for: something is off, and a
   * prefetch slot is not held for minutes (whoever schedules keeps a backstop for that case).
   */
  maxEarlyWaitMs?: number;
  /** After this many early rounds the message is requeued. */
  maxWaitRounds?: number;
}

const MIN_SEND_TIMEOUT_MS = 10_000;

/**
 * Messages delivered after a delay, the way RabbitMQ can do it without a plugin: each goes to a wait
 * queue nobody consumes, whose uniform `x-message-ttl` is the delay; when it runs out the broker
 * dead-letters it (at least once) into the due queue, which `consume` reads. Uniform TTL per queue,
 * because RabbitMQ expires messages only at the head of a queue: per-message TTLs could leave a short
 * one stuck behind a long one. The only per-message `expiration` is for a message sent late (after an
 * outage): what is left of its delay. Messages wait in durable queues while no consumer runs.
 */
export class DelayedMessages<S extends z.ZodType> {
  private consumer: ManagedChannel | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: (completed: boolean) => void }>();

  private constructor(
    private readonly broker: Broker,
    private readonly options: DelayedMessagesOptions<S>,
    private readonly deadLetter: string,
    private readonly publisher: ManagedChannel,
  ) {}

  /** Opens the publishing side: `schedule` may be called at once (it waits for the broker if needed). */
  static async open<S extends z.ZodType>(broker: Broker, options: DelayedMessagesOptions<S>): Promise<DelayedMessages<S>> {
    const deadLetter = await ensureDeadLetter(broker, options.prefix);
    const publisher = await ManagedChannel.open(broker, {
      name: `${options.name} publisher`,
      ...(options.maxBuffered !== undefined ? { maxBuffered: options.maxBuffered } : {}),
      setup: async ({ channel }) => {
        // Declared before the wait queues: a message dead-lettered to a queue that does not exist is lost.
        await declareQuorumQueue(channel, options.dueQueue, { 'x-dead-letter-exchange': deadLetter });
        for (const [delayMs, wait] of options.waitQueues) {
          await declareQuorumQueue(channel, wait, {
            'x-message-ttl': delayMs,
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': options.dueQueue,
            // At-least-once: a due message stays in the wait queue until the due queue has confirmed it,
            // so it is not lost while that queue has no leader (RabbitMQ 3.10+).
            'x-dead-letter-strategy': 'at-least-once',
            'x-overflow': 'reject-publish',
          });
        }
      },
    });
    return new DelayedMessages(broker, options, deadLetter, publisher);
  }

  /** Whether a message scheduled now would go out at once (else it waits for the broker). */
  get ready(): boolean {
    return this.publisher.ready;
  }

  /**
   * Resolves when the broker has confirmed the message in its wait queue. While the broker is away it
   * waits here (bounded, see ManagedChannel) and is sent when it is back, with what is left of the
   * delay; refused by the broker (the wait queue has no leader for now), it is sent again after a
   * pause. It is given up (rejected) only if all that takes longer than the delay itself.
   */
  async schedule(payload: z.input<S>, delayMs: number, options: { messageId?: string } = {}): Promise<void> {
    const queue = this.options.waitQueues.get(delayMs);
    if (!queue) throw new Error(`no wait queue for a delay of ${delayMs} ms`);
    const dueAt = Date.now() + delayMs;
    const headers = contextHeaders(currentContext());
    const body = Buffer.from(JSON.stringify(payload));
    const properties = (): PublishOptions => {
      const left = dueAt - Date.now();
      return {
        persistent: true,
        contentType: 'application/json',
        ...(options.messageId ? { messageId: options.messageId } : {}),
        headers,
        // Sent late (after an outage): only what is left of the delay, not the whole of it again.
        ...(left < delayMs - 1000 ? { expiration: String(Math.max(1, left)) } : {}),
      };
    };
    await retry((timeoutMs) => this.publisher.sendToQueue(queue, body, properties, { timeoutMs }), {
      budgetMs: Math.max(delayMs, MIN_SEND_TIMEOUT_MS),
      isFinal: (err) => !(err instanceof PublishRefusedError),
    });
  }

  /** Hands every due message to `handler` (now and after every reconnect); see DueOutcome. */
  async consume(handler: (payload: z.output<S>) => Promise<DueOutcome>, consumerOptions: DueConsumerOptions = {}): Promise<void> {
    const { dueQueue } = this.options;
    this.consumer = await ManagedChannel.open(this.broker, {
      name: `${this.options.name} consumer`,
      prefetch: consumerOptions.prefetch ?? 16,
      setup: async ({ channel }) => void (await declareQuorumQueue(channel, dueQueue, { 'x-dead-letter-exchange': this.deadLetter })),
    });
    // Messages that waited in the classic queue of an earlier release are still delivered, on time.
    await this.consumer.consume(dueQueue, (delivery) => this.track(this.handle(delivery, handler, consumerOptions)), { legacy: true });
  }

  /** Stops consuming and lets handlings in progress finish; a message still waiting goes back to its queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    const consumer = this.consumer;
    await consumer?.cancelConsumers();
    for (const wait of this.waits) {
      clearTimeout(wait.timer);
      wait.resolve(false);
    }
    this.waits.clear();
    await Promise.allSettled([...this.inFlight]);
    if (this.publisher.pending) this.options.logger.warn(`${this.options.name}: messages not sent before stopping`, { waiting: this.publisher.pending });
    // Closing the channel returns every unacknowledged message to the queue for the next consumer.
    await consumer?.close();
    await this.publisher.close();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(delivery: Delivery, handler: (payload: z.output<S>) => Promise<DueOutcome>, options: DueConsumerOptions): Promise<void> {
    const { logger, name } = this.options;
    const messageId = String(delivery.properties.messageId ?? 'unknown');
    const payload = parse(this.options.schema, delivery.content);
    if (!payload.success) {
      logger.error(`unreadable ${name} message rejected to the dead-letter queue`, { messageId });
      delivery.settle('dead-letter');
      return;
    }
    const outcome = await runWithContext(contextFromHeaders(delivery.properties.headers, `${name}:${messageId}`), () => this.whenDue(payload.data, handler, messageId, options));
    if (outcome === 'done') delivery.settle('ack');
    else if (outcome === 'retry') delivery.settle('requeue', options.retryDelayMs ?? 1000);
    // 'abandon' (stopping): left unacknowledged; closing the channel requeues it.
  }

  private async whenDue(payload: z.output<S>, handler: (payload: z.output<S>) => Promise<DueOutcome>, messageId: string, options: DueConsumerOptions): Promise<'done' | 'retry' | 'abandon'> {
    const { logger, name } = this.options;
    try {
      for (let round = 0; round < (options.maxWaitRounds ?? 5); round++) {
        const outcome = await handler(payload);
        if (outcome === 'done' || outcome === 'retry') return outcome;
        if (outcome.notDueForMs > (options.maxEarlyWaitMs ?? 30_000)) {
          logger.warn(`${name} message arrived long before it was due; acknowledged`, { messageId, msLeft: outcome.notDueForMs });
          return 'done';
        }
        if (!(await this.wait(outcome.notDueForMs))) return 'abandon';
      }
      return 'retry';
    } catch (err) {
      logger.warn(`${name} handling failed; will retry`, { messageId, err: describeError(err).message });
      return 'retry';
    }
  }

  /** Resolves true after `ms`, or false at once when stopping. */
  private wait(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.waits.delete(entry);
          resolve(true);
        }, ms),
        resolve,
      };
      this.waits.add(entry);
    });
  }
}

function parse<S extends z.ZodType>(schema: S, content: Buffer): z.ZodSafeParseResult<z.output<S>> | { success: false } {
  try {
    return schema.safeParse(JSON.parse(content.toString('utf8')));
  } catch {
    return { success: false };
  }
}
