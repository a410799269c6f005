import { randomUUID } from 'node:crypto';
import type { ServiceIdentity } from '../auth';
import type { Knex, Migration } from '../db';
import { BackgroundJob } from '../jobs';
import { currentContext, type Logger } from '../logger';
import { type Broker, ManagedChannel, type RawChannel } from '../messaging';
import { contextHeaders } from '../messaging/context';
import { type EventMap, eventSchemas, type EventType } from '../contracts/events';

/** An event on the bus; for a union of types it is a discriminated union, so `type` narrows `payload`. */
export type EventEnvelope<T extends EventType = EventType> = {
  [K in T]: { id: string; type: K; occurredAt: string; payload: EventMap[K] };
}[T];

/** What an event's signature covers besides its body. */
export const eventFacts = (eventId: string, type: string): string[] => ['event', eventId, type];

export function eventsExchange(prefix: string): string {
  return `${prefix}.events`;
}

export async function declareEventsExchange(channel: RawChannel, prefix: string): Promise<string> {
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

/** Rows relayed per transaction. */
const BATCH = 200;

/**
 * Transactional outbox: `publish` writes the event in the caller's transaction, so an event exists
 * exactly when the change it describes was committed. A relay sends the rows on a managed channel and
 * deletes them only once the broker has confirmed them; consumers de-duplicate by event id. While the
 * broker is away the rows wait in the table; a relay cut off mid-batch waits (bounded) for the broker.
 */
export class Outbox {
  private channel: ManagedChannel | undefined;
  private readonly relay: BackgroundJob;

  constructor(
    private readonly db: Knex,
    private readonly broker: Broker,
    private readonly options: OutboxOptions,
  ) {
    this.relay = new BackgroundJob({ name: 'outbox relay', run: () => this.relayAll(), logger: options.logger, intervalMs: options.pollMs ?? 1000 });
  }

  /** Records an event inside `trx`; it is relayed as soon as the transaction commits. */
  async publish<T extends EventType>(trx: Knex.Transaction, type: T, payload: EventMap[T]): Promise<void> {
    const checked = eventSchemas[type].safeParse(payload);
    // A payload its schema refuses is a bug in the publishing service: fail its transaction, not every consumer.
    if (!checked.success) throw new Error(`${type} event payload does not match its schema: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
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
    this.channel = await ManagedChannel.open(this.broker, {
      name: 'outbox',
      setup: async ({ channel }) => void (await declareEventsExchange(channel, this.options.prefix)),
      // Rows written while the broker was away go out as soon as it is back.
      onReady: () => this.nudge(),
    });
    this.relay.start();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close();
  }

  /** Relays pending rows now (coalescing with a relay already running). */
  nudge(): void {
    this.relay.nudge();
  }

  /** Resolves when everything written so far has been relayed (used by tests and shutdown). */
  async flush(): Promise<void> {
    do {
      this.nudge();
      await this.relay.idle();
    } while ((await this.db('outbox').count({ n: '*' }).first())?.n !== 0 && this.channel?.ready);
  }

  private async relayAll(): Promise<void> {
    const channel = this.channel;
    while (channel?.ready && (await this.relayBatch(channel)) > 0);
  }

  private async relayBatch(channel: ManagedChannel): Promise<number> {
    const exchange = eventsExchange(this.options.prefix);
    return this.db.transaction(async (trx) => {
      // SKIP LOCKED lets several replicas relay side by side without sending a row twice.
      const rows = (await trx('outbox').select('*').orderBy('seq').limit(BATCH).forUpdate().skipLocked()) as OutboxRow[];
      if (!rows.length) return 0;
      const confirms = rows.map((row) => {
        const envelope = { id: row.event_id, type: row.type, occurredAt: new Date(row.occurred_at).toISOString(), payload: JSON.parse(row.payload) as unknown };
        const body = Buffer.from(JSON.stringify(envelope));
        return channel.publish(exchange, row.type, body, {
          messageId: row.event_id,
          type: row.type,
          contentType: 'application/json',
          persistent: true,
          headers: { ...contextHeaders({ requestId: row.request_id, traceparent: row.traceparent }), ...this.options.identity.headers(eventFacts(row.event_id, row.type), body) },
        });
      });
      // Every row's fate is known before any is deleted; one unconfirmed keeps the whole batch for the next run.
      const refused = (await Promise.allSettled(confirms)).find((outcome) => outcome.status === 'rejected');
      if (refused) throw refused.reason;
      await trx('outbox').whereIn('seq', rows.map((r) => r.seq)).delete();
      return rows.length;
      // READ COMMITTED: the rows taken and nothing else. Under REPEATABLE READ the scan's next-key locks
      // also covered the gap where new events are inserted, so a use case writing its event while the
      // relay waited for confirms deadlocked with the relay's delete (InnoDB then rolled one back).
    }, { isolationLevel: 'read committed' });
  }
}
