import type { Knex } from '@market/common';

/** How long a handler may hold an event before a redelivery may take it over (the handler died). */
const TAKEOVER_AFTER_MS = 5 * 60_000;

/**
 * Provider events (webhooks) already seen, by the provider's event id: an event is handled once,
 * however many times it is delivered. A delivery claims the id first; it is `done` once handled, and
 * released (deleted) if handling failed, so that the provider's redelivery runs it again.
 */
export class ProviderEventRepository {
  constructor(private readonly db: Knex) {}

  /**
   * True when this delivery may handle the event: the id is new, or a handler claimed it so long ago
   * that it must have died. False when it is done or being handled right now.
   */
  async claim(id: string, type: string): Promise<boolean> {
    const now = new Date();
    const inserted = await this.db.raw('INSERT IGNORE INTO provider_events (id, type, state, received_at, updated_at) VALUES (?, ?, ?, ?, ?)', [id, type.slice(0, 100), 'processing', now, now]);
    if ((inserted as [{ affectedRows: number }])[0].affectedRows === 1) return true;
    const takenOver = await this.db('provider_events')
      .where({ id, state: 'processing' })
      .where('updated_at', '<', new Date(now.getTime() - TAKEOVER_AFTER_MS))
      .update({ updated_at: now });
    return takenOver === 1;
  }

  async markDone(id: string): Promise<void> {
    await this.db('provider_events').where({ id }).update({ state: 'done', updated_at: new Date() });
  }

  /** Handling failed: forget the claim, so the redelivery is handled. */
  async release(id: string): Promise<void> {
    await this.db('provider_events').where({ id, state: 'processing' }).delete();
  }

  /** Event ids are kept for as long as Stripe redelivers (3 days), and some more. */
  async forgetOlderThan(before: Date): Promise<number> {
    return this.db('provider_events').where('received_at', '<', before).where({ state: 'done' }).delete();
  }
}
