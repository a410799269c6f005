import { randomUUID } from 'node:crypto';
import type { Channel, ConfirmChannel } from 'amqplib';
import type { ServiceIdentity } from '../auth';
import type { Knex, Migration } from '../db';
import { describeError } from '../errors';
import { currentContext, type Logger } from '../logger';
import type { Broker } from '../rpc/broker';
import { contextHeaders } from '../rpc/envelope';
import type { EventMap, EventType } from '../contracts/events';

/** An event on the bus; for a union of types it is a discriminated union, so `type` narrows `payload`. */
export type EventEnvelope<T extends EventType = EventType> = {
  [K in T]: { id: string; type: K; occurredAt: string; payload: EventMap[K] };
}[T];

/** What an event's signature covers besides its body. */
export const eventFacts = (eventId: string, type: string): string[] => ['event', eventId, type];

export function eventsExchange(prefix: string): string {
  return `${prefix}.events`;
}

export async function declareEventsExchange(channel: Channel, prefix: string): Promise<string> {
  const exchange = eventsExchange(prefix);
  await channel.assertExchange(exchange, 'topic', { durable: true });
  return exchange;
}

/** Add to every publishing service's migrations: the outbox and the consumer de-duplication table. */
const eventTablesMigration: Migration = {
  name: '000_event_tables',
  async up(db) {
    await db.schema.createTable('outbox', (t) => {
      t.bigIncrements('seq');
      t.uuid('event_id').notNullable().unique();
      t.string('type', 100).notNullable();
      t.text('payload', 'mediumtext').notNullable();
      t.datetime('occurred_at', { precision: 3 }).notNullable();
    });
    await db.schema.createTable('processed_events', (t) => {
      t.uuid('event_id').primary();
      t.datetime('processed_at', { precision: 3 }).notNullable();
    });
  },
  async down(db) {
    await db.schema.dropTable('processed_events');
    await db.schema.dropTable('outbox');
  },
};

/** The request that caused an event is traced into its consumers' logs. */
const outboxTraceMigration: Migration = {
  name: '000_outbox_trace_context',
  async up(db) {
    await db.schema.alterTable('outbox', (t) => {
      t.string('request_id', 128).nullable();
      t.string('traceparent', 55).nullable();
    });
  },
  async down(db) {
    await db.schema.alterTable('outbox', (t) => {
      t.dropColumn('request_id');
      t.dropColumn('traceparent');
    });
  },
};

/** First in every publishing service's migrations. */
export const eventTablesMigrations: Migration[] = [eventTablesMigration, outboxTraceMigration];

interface OutboxRow {
  seq: number;
  event_id: string;
  type: string;
  payload: string;
  occurred_at: Date;
  request_id: string | null;
  traceparent: string | null;
}

export interface OutboxOptions {
  prefix: string;
  logger: Logger;
  /** Signs every event, so consumers accept it only as coming from the service that owns its subject. */
  identity: ServiceIdentity;
  /** Backstop poll for rows another replica left, or ones written while the broker was away. */
  pollMs?: number;
}

/**
 * Transactional outbox: `publish` writes the event in the caller's transaction, so an event exists
 * exactly when the change it describes was committed. A relay sends the rows with publisher confirms
 * and deletes them only after the broker has them; consumers de-duplicate by event id.
 */
export class Outbox {
  private channel: ConfirmChannel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly db: Knex,
    private readonly broker: Broker,
    private readonly options: OutboxOptions,
  ) {}

  /** Records an event inside `trx`; it is relayed as soon as the transaction commits. */
  async publish<T extends EventType>(trx: Knex.Transaction, type: T, payload: EventMap[T]): Promise<void> {
    const ctx = currentContext();
    await trx('outbox').insert({
      event_id: randomUUID(),
      type,
      payload: JSON.stringify(payload),
      occurred_at: new Date(),
      request_id: ctx?.requestId ?? null,
      traceparent: ctx?.traceparent ?? null,
    });
    trx.executionPromise.then(() => this.nudge(), () => undefined);
  }

  async start(): Promise<void> {
    await this.broker.onConnect(async (scope) => {
      const channel = await scope.confirmChannel();
      await declareEventsExchange(channel, this.options.prefix);
      this.channel = channel;
      this.nudge();
      return () => {
        if (this.channel === channel) this.channel = undefined;
      };
    }, 'outbox');
    this.timer = setInterval(() => this.nudge(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  /** Relays pending rows now (coalescing with a relay already running). */
  nudge(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.relayAll()
      .catch((err: unknown) => {
        this.options.logger.warn('outbox relay failed; will retry', { err: describeError(err).message });
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Resolves when everything written so far has been relayed (used by tests and shutdown). */
  async flush(): Promise<void> {
    do {
      this.nudge();
      await this.running;
    } while ((await this.db('outbox').count({ n: '*' }).first())?.n !== 0 && this.channel);
  }

  private async relayAll(): Promise<void> {
    while (this.channel && (await this.relayBatch(this.channel)) > 0);
  }

  private async relayBatch(channel: ConfirmChannel): Promise<number> {
    const exchange = eventsExchange(this.options.prefix);
    return this.db.transaction(async (trx) => {
      // SKIP LOCKED lets several replicas relay side by side without sending a row twice.
      const rows = (await trx('outbox').select('*').orderBy('seq').limit(200).forUpdate().skipLocked()) as OutboxRow[];
      if (!rows.length) return 0;
      for (const row of rows) {
        const envelope = { id: row.event_id, type: row.type, occurredAt: new Date(row.occurred_at).toISOString(), payload: JSON.parse(row.payload) as unknown };
        const body = Buffer.from(JSON.stringify(envelope));
        channel.publish(exchange, row.type, body, {
          messageId: row.event_id,
          type: row.type,
          contentType: 'application/json',
          persistent: true,
          headers: { ...contextHeaders({ requestId: row.request_id, traceparent: row.traceparent }), ...this.options.identity.headers(eventFacts(row.event_id, row.type), body) },
        });
      }
      await channel.waitForConfirms();
      await trx('outbox').whereIn('seq', rows.map((r) => r.seq)).delete();
      return rows.length;
      // READ COMMITTED: the rows taken and nothing else. Under REPEATABLE READ the scan's next-key locks
      // also covered the gap where new events are inserted, so a use case writing its event while the
      // relay waited for confirms deadlocked with the relay's delete (InnoDB then rolled one back).
    }, { isolationLevel: 'read committed' });
  }
}
