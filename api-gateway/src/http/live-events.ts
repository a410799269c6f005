import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { contracts, type EventEnvelope, type EventType, type Logger, problem, type Redis } from '@market/common';
import { clientAddressKey } from './rate-limit';

/**
 * GET /events: public listing changes as Server-Sent Events, for pages that change without a reload.
 *
 * Every replica consumes the bus's listing events from one shared queue, so each event reaches one
 * replica, which appends it to a Redis Stream (`<prefix>:live`, about SSE_BACKLOG entries long). Each
 * replica reads that stream with one blocking reader and writes every entry to its own open streams.
 * An entry's stream id is its SSE `id` on every replica, so a client resumes on any of them with
 * `Last-Event-ID`: the entries after it are replayed, or, when they are no longer all there, an
 * `event: reset` tells the page to load its data again.
 *
 * Open streams are bounded per client address across replicas (a sorted set per address in Redis,
 * each stream's entry scored by a lease its heartbeats renew, so a crashed replica's entries age
 * out) and per replica. They are not counted by the per-client request limiter: the bound is theirs.
 */
export interface LiveEventsOptions {
  redis: Redis;
  prefix: string;
  heartbeatMs: number;
  maxPerClient: number;
  maxConnections: number;
  backlog: number;
  logger: Logger;
}

/** What a page is told happened to a listing. */
const LIVE_TYPES = ['created', 'changed', 'reserved', 'released', 'sold', 'deleted'] as const;
type LiveType = (typeof LIVE_TYPES)[number];

/** A hand-over between two orders is a reservation as far as anyone else can see. */
const LIVE_TYPE_OF: Partial<Record<EventType, LiveType>> = {
  'listing.created': 'created',
  'listing.updated': 'changed',
  'listing.reserved': 'reserved',
  'listing.transferred': 'reserved',
  'listing.released': 'released',
  'listing.sold': 'sold',
  'listing.deleted': 'deleted',
};

/** An entry's data: the public listing only (contracts.listing drops every other member). */
const liveChange = z.object({ type: z.enum(LIVE_TYPES), listing: contracts.listing });

/** How a browser's EventSource waits before reconnecting (the gateway's stop, a lost connection). */
const RETRY_MS = 2000;
/** How long the reader's XREAD waits for new entries before asking again. */
const READ_BLOCK_MS = 5000;
const READ_COUNT = 500;
const REPLAY_PAGE = 200;
/** Stream ids are `<ms>-<seq>`; anything else in Last-Event-ID is not one of ours. */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
/** A stream whose client reads slower than changes arrive is dropped (it resumes from its last id). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** A quiet stream outlives its last change by a day; after that a resuming page is told to reset. */
const STREAM_TTL_MS = 24 * 3600 * 1000;
/** A lease outlives two missed heartbeats, with room for a stalled event loop. */
const leaseMsOf = (heartbeatMs: number): number => 3 * heartbeatMs + 2000;
/** How long a request waits for the reader's first position (a gateway that has just started). */
const POSITION_WAIT_MS = 2000;

/**
 * Admits one stream of a client if it holds fewer than ARGV[2]: drops expired leases, adds this one
 * (expiring in ARGV[3] ms, by Redis's clock so replicas' clocks do not matter). 0 when admitted, else
 * the ms until the soonest lease of that client ends.
 */
const ACQUIRE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(first[2]) - now)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0`;

/** Renews a stream's lease (and adds it back if an outage let it expire while the stream stayed open). */
const RENEW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

type ScriptedRedis = Redis & {
  liveAcquire(key: string, member: string, max: number, leaseMs: number): Promise<number>;
  liveRenew(key: string, member: string, leaseMs: number): Promise<number>;
};

interface OpenStream {
  member: string;
  /** Its client's sorted set. */
  clientKey: string;
  res: Response;
  /** The newest entry it has: later entries only are written to it. */
  lastSent: bigint;
  /** Entries the reader delivered while this stream was still being replayed to. */
  pending?: { order: bigint; frame: string }[];
  closed: boolean;
}

const U64 = 1n << 64n;

/** A stream id as one number that sorts as the ids do; undefined for anything that is not one. */
function parseId(id: string): bigint | undefined {
  const m = STREAM_ID.exec(id);
  if (!m) return undefined;
  const [ms, seq] = [BigInt(m[1] as string), BigInt(m[2] as string)];
  return ms < U64 && seq < U64 ? ms * U64 + seq : undefined;
}

/** The order of an id Redis gave. */
const order = (id: string): bigint => {
  const parsed = parseId(id);
  if (parsed === undefined) throw new Error(`not a stream id: ${id}`);
  return parsed;
};

const frameOf = (id: string, data: string): string => `id: ${id}\nevent: listing\ndata: ${data}\n\n`;

export class LiveEvents {
  private readonly redis: ScriptedRedis;
  private readonly key: string;
  private readonly leaseMs: number;
  private readonly streams = new Set<OpenStream>();
  /** The newest entry the reader has delivered (undefined until it first reached Redis). */
  private position: string | undefined;
  private positioned: Promise<void>;
  private onPositioned: () => void = () => undefined;
  private reader: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private lastWarning = 0;

  constructor(private readonly opts: LiveEventsOptions) {
    opts.redis.defineCommand('liveAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    opts.redis.defineCommand('liveRenew', { numberOfKeys: 1, lua: RENEW });
    this.redis = opts.redis as ScriptedRedis;
    this.key = `${opts.prefix}:live`;
    this.leaseMs = leaseMsOf(opts.heartbeatMs);
    this.positioned = new Promise((resolve) => (this.onPositioned = resolve));
  }

  /** Starts the reader and the heartbeat. */
  start(): void {
    // Its own connection: XREAD BLOCK holds it, and may wait longer than the shared client's timeout.
    // Its one command at a time may wait for the connection (at start, or while it reconnects).
    this.reader = this.opts.redis.duplicate({ commandTimeout: READ_BLOCK_MS + 5000, enableAutoPipelining: false, enableOfflineQueue: true });
    this.reader.on('error', (err: Error) => this.warn('live events reader: redis unavailable', err));
    void this.read(this.reader);
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  /** The bus handler (a queue shared by the replicas): one entry per listing change, for every replica to send. */
  async append(event: EventEnvelope): Promise<void> {
    const type = LIVE_TYPE_OF[event.type];
    if (!type || !('listing' in event.payload)) return;
    const data = JSON.stringify(liveChange.parse({ type, listing: event.payload.listing }));
    const results = await this.redis
      .multi()
      .xadd(this.key, 'MAXLEN', '~', this.opts.backlog, '*', 'data', data)
      .pexpire(this.key, STREAM_TTL_MS)
      .exec();
    const failed = results?.find(([err]) => err)?.[0];
    if (!results || failed) throw failed ?? new Error('the live events transaction was discarded');
  }

  /** GET /events, mounted before the per-client rate limiter. */
  router(): Router {
    const router = express.Router();
    router.get('/events', (req, res) => this.open(req, res));
    return router;
  }

  /** Ends every open stream (their clients reconnect elsewhere), releases their places and stops the reader. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeat);
    this.onPositioned();
    this.reader?.disconnect();
    await Promise.allSettled(
      [...this.streams].map((stream) => {
        const released = this.forget(stream);
        end(stream.res);
        return released;
      }),
    );
  }

  private async open(req: Request, res: Response): Promise<void> {
    if (req.method === 'HEAD') {
      res.status(200).set(SSE_HEADERS).end();
      return;
    }
    if (this.stopping) throw problem('live_updates_unavailable', 'stopping');
    if (this.position === undefined) await Promise.race([this.positioned, new Promise((resolve) => setTimeout(resolve, POSITION_WAIT_MS).unref())]);
    if (this.position === undefined) throw problem('live_updates_unavailable', 'unreachable');
    if (this.streams.size >= this.opts.maxConnections) throw problem('live_updates_unavailable', 'full');

    const stream: OpenStream = {
      member: randomUUID(),
      clientKey: `${this.opts.prefix}:live:clients:${clientAddressKey(req.ip ?? 'unknown')}`,
      res,
      lastSent: 0n,
      closed: false,
    };
    // A client that leaves before it is admitted must not keep the place it is given.
    let admitted = false;
    let gone = false;
    res.on('close', () => {
      gone = true;
      if (admitted) void this.forget(stream);
    });
    let waitMs: number;
    try {
      waitMs = await this.redis.liveAcquire(stream.clientKey, stream.member, this.opts.maxPerClient, this.leaseMs);
    } catch (err) {
      this.warn('live events: redis unavailable', err);
      throw problem('live_updates_unavailable', 'unreachable');
    }
    if (waitMs > 0) {
      throw problem('too_many_streams', this.opts.maxPerClient, { retryAfterSeconds: waitMs / 1000 });
    }
    admitted = true;
    if (gone || this.stopping) {
      await this.forget(stream);
      if (gone) return;
      throw problem('live_updates_unavailable', 'stopping');
    }
    const position = this.position ?? '0-0';

    res.status(200).set(SSE_HEADERS);
    res.flushHeaders();
    const lastEventId = req.get('last-event-id');
    if (lastEventId === undefined) {
      // Its place in the stream at once, so that a reconnection before the first change misses nothing.
      stream.lastSent = order(position);
      this.streams.add(stream);
      res.write(`retry: ${RETRY_MS}\nid: ${position}\n\n`);
      return;
    }
    // Live entries wait while the missed ones are replayed; the reader is at `upTo` now.
    const upTo = position;
    stream.pending = [];
    this.streams.add(stream);
    res.write(`retry: ${RETRY_MS}\n\n`);
    try {
      await this.replay(stream, lastEventId, upTo);
    } catch (err) {
      // Ended: the client reconnects with the last id it got and the replay starts again from there.
      this.warn('live events: replay failed', err);
      void this.forget(stream);
      end(res);
      return;
    }
    const pending = stream.pending ?? [];
    stream.pending = undefined;
    for (const entry of pending) this.deliverTo(stream, entry.order, entry.frame);
  }

  /** Writes the entries after `from` up to `upTo`, or a reset when some of them are gone. */
  private async replay(stream: OpenStream, from: string, upTo: string): Promise<void> {
    const reset = (): void => {
      stream.lastSent = order(upTo);
      stream.res.write(`id: ${upTo}\nevent: reset\ndata: {}\n\n`);
    };
    const fromOrder = parseId(from);
    if (fromOrder === undefined) return reset();
    if (!(await this.retains(from, fromOrder))) return reset();
    stream.lastSent = fromOrder;
    let start = `(${from}`;
    while (!stream.closed && fromOrder < order(upTo)) {
      const entries = await this.redis.xrange(this.key, start, upTo, 'COUNT', REPLAY_PAGE);
      for (const [id, fields] of entries) {
        const data = this.dataOf(id, fields);
        if (data !== undefined && !stream.closed && !stream.res.write(frameOf(id, data))) await drained(stream.res);
        stream.lastSent = order(id);
      }
      const last = entries[entries.length - 1];
      if (entries.length < REPLAY_PAGE || !last) break;
      start = `(${last[0]}`;
    }
  }

  /**
   * Whether every entry after `id` is still in the stream. Trimming keeps no record of which ids it
   * removed (Redis 7.0's max-deleted-entry-id counts XDEL only), so an id before the first entry kept
   * is taken as one whose successors may be gone: at worst a page reloads once more than it needed to.
   */
  private async retains(id: string, idOrder: bigint): Promise<boolean> {
    let info: unknown[];
    try {
      info = (await this.redis.xinfo('STREAM', this.key)) as unknown[];
    } catch (err) {
      // No stream: nothing happened since it expired (or ever). Only the very beginning is still whole.
      if (/no such key/i.test(messageOf(err))) return id === '0-0';
      throw err;
    }
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
    const lastGenerated = order(String(fields.get('last-generated-id')));
    // An id from the future: a Redis that lost its data, or another deployment's.
    if (idOrder > lastGenerated) return false;
    const first = fields.get('first-entry') as [string, string[]] | null | undefined;
    if (!first) return idOrder === lastGenerated;
    if (idOrder >= order(first[0])) return true;
    // The beginning (what a page got when there was no stream yet), from a stream never trimmed (Redis 7).
    return id === '0-0' && fields.get('entries-added') !== undefined && fields.get('entries-added') === fields.get('length');
  }

  /** The reader: one per replica, on its own connection, fanning entries out to this replica's streams. */
  private async read(reader: Redis): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.position === undefined) {
          const [last] = await reader.xrevrange(this.key, '+', '-', 'COUNT', 1);
          this.position = last?.[0] ?? '0-0';
          this.onPositioned();
        }
        const reply = await reader.xread('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.key, this.position);
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.position = id;
            const data = this.dataOf(id, fields);
            if (data === undefined) continue;
            const frame = frameOf(id, data);
            const entryOrder = order(id);
            for (const stream of this.streams) this.deliverTo(stream, entryOrder, frame);
          }
        }
      } catch (err) {
        if (this.stopping) return;
        this.warn('live events reader: redis unavailable', err);
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  /** An entry's data, read through the public schema again: whatever wrote it, nothing else is sent. */
  private dataOf(id: string, fields: string[]): string | undefined {
    const raw = fields[fields.indexOf('data') + 1];
    try {
      return JSON.stringify(liveChange.parse(JSON.parse(raw ?? '')));
    } catch {
      this.opts.logger.warn('live events: unreadable entry skipped', { id });
      return undefined;
    }
  }

  private deliverTo(stream: OpenStream, entryOrder: bigint, frame: string): void {
    if (stream.closed) return;
    if (stream.pending) {
      stream.pending.push({ order: entryOrder, frame });
      return;
    }
    if (entryOrder <= stream.lastSent) return;
    if (stream.res.writableLength > MAX_BUFFERED_BYTES) {
      // A client this far behind resumes from its last id on a fresh connection.
      stream.res.destroy();
      return;
    }
    stream.res.write(frame);
    stream.lastSent = entryOrder;
  }

  private beat(): void {
    for (const stream of this.streams) {
      stream.res.write(': heartbeat\n\n');
      this.redis.liveRenew(stream.clientKey, stream.member, this.leaseMs).catch((err: unknown) => this.warn('live events: lease renewal failed', err));
    }
  }

  /** Stops writing to a stream and gives its place back. */
  private async forget(stream: OpenStream): Promise<void> {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream);
    await this.redis.zrem(stream.clientKey, stream.member).catch((err: unknown) => this.warn('live events: could not release a stream', err));
  }

  /** One warning every 10 s while Redis is away, not one per stream or retry. */
  private warn(message: string, err: unknown): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.opts.logger.warn(message, { err: messageOf(err) });
  }
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  // nginx (and the ingress controller built on it) would otherwise hold the stream in its buffer.
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

/** Ends a stream's response and its connection (not back to keep-alive), so a stopping server's close can finish. */
function end(res: Response): void {
  const socket = res.socket;
  res.end();
  if (!socket) return;
  socket.end();
  // A client that reads nothing would hold the connection open while its buffer drains.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** An error's message, also for errors made in another realm (ioredis's, seen from a test's sandbox). */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/** Resolves when `res` can take more, or has closed. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
