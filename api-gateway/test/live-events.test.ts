/**
 * GET /events: live listing changes as Server-Sent Events, read here as a browser's EventSource reads
 * them (fetch and a small parser), on two gateway replicas of one stack.
 */
import net from 'node:net';
import { contracts, connectRaw } from '@market/common';
import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';
import { startGateway, type Gateway } from '../src/app';
import { loadGatewayConfig } from '../src/config';

const HEARTBEAT_MS = 300;

let stack: Stack;
let api: ReturnType<typeof client>;
let second: Gateway;
let seller: Session;
let buyer: Session;
/** Gateways this file starts next to the stack's own (replicas on the same Redis and bus prefix). */
const replicas = new Set<Gateway>();
const opened = new Set<EventStream>();

async function startReplica(env: Record<string, string> = {}): Promise<Gateway> {
  const gateway = await startGateway(
    loadGatewayConfig({ ...stack.envFor('api-gateway'), USERS_SERVICE_URL: `http://127.0.0.1:${stack.users.port}`, PORT: '0', METRICS_PORT: '0', ...env }),
    stack.logger,
  );
  replicas.add(gateway);
  return gateway;
}

beforeAll(async () => {
  // TRUST_PROXY: each test is its own client address (X-Forwarded-For), so per-client caps do not mix.
  stack = await startStack({ env: { SSE_HEARTBEAT_MS: String(HEARTBEAT_MS), TRUST_PROXY: '1' } });
  api = client(stack);
  second = await startReplica();
  seller = await api.signUp('Live Seller');
  buyer = await api.signUp('Live Buyer');
});

afterAll(async () => {
  for (const stream of opened) stream.close();
  for (const gateway of replicas) await gateway.stop();
  await stack.gateway.redis.del(`${stack.env.BUS_PREFIX}:live`).catch(() => undefined);
  await stack.stop();
  // The stack removes the queues it knows of; this one is this feature's.
  const connection = await connectRaw((stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672').split(',')[0] as string);
  const channel = await connection.createChannel();
  for (const name of [`${stack.env.BUS_PREFIX}.gateway.live-events.quorum`, `${stack.env.BUS_PREFIX}.gateway.live-events`]) await channel.deleteQueue(name).catch(() => undefined);
  await connection.close().catch(() => undefined);
});

interface SseEvent {
  /** The last event id as the client holds it when this event is dispatched. */
  id: string | undefined;
  event: string;
  data: string;
}

/** An open GET /events, parsed as the EventSource specification says (fields, comments, dispatch on a blank line). */
class EventStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** What a reconnecting EventSource would send as Last-Event-ID. */
  lastEventId: string | undefined;
  retry: number | undefined;
  ended = false;
  text = '';

  private constructor(
    readonly res: Response,
    private readonly controller: AbortController,
  ) {}

  static async open(gateway: Gateway, opts: { from?: string; lastEventId?: string } = {}): Promise<EventStream> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (opts.from) headers['x-forwarded-for'] = opts.from;
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${gateway.port}/events`, { headers, signal: controller.signal });
    const stream = new EventStream(res, controller);
    opened.add(stream);
    if (res.status === 200) void stream.consume();
    return stream;
  }

  get status(): number {
    return this.res.status;
  }

  /** The listing changes received, with their ids. */
  changes(listingId?: string): { id: string | undefined; type: string; listing: Record<string, unknown> }[] {
    return this.events
      .filter((e) => e.event === 'listing')
      .map((e) => ({ id: e.id, ...(JSON.parse(e.data) as { type: string; listing: Record<string, unknown> }) }))
      .filter((c) => listingId === undefined || c.listing.id === listingId);
  }

  has(listingId: string, type: string): boolean {
    return this.changes(listingId).some((c) => c.type === type);
  }

  close(): void {
    this.controller.abort();
    opened.delete(this);
  }

  private async consume(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    let event = '';
    let id: string | undefined;
    try {
      for await (const chunk of this.res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        this.text += text;
        buffer += text;
        let newline: number;
        while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            this.lastEventId = id;
            if (data.length) this.events.push({ id, event: event || 'message', data: data.join('\n') });
            data = [];
            event = '';
            continue;
          }
          if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(value);
          else if (field === 'event') event = value;
          else if (field === 'id') id = value;
          else if (field === 'retry') this.retry = Number(value);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
  }
}

const address = (() => {
  let n = 0;
  return (): string => `198.51.100.${++n}`;
})();

const within = (ms: number, check: () => boolean): Promise<boolean> => eventually(async () => check(), ms, 10);
const opensOn = async (gateway: Gateway, from: string): Promise<EventStream> => {
  const stream = await EventStream.open(gateway, { from });
  expect(stream.status).toBe(200);
  // Admitted and positioned: the first message (retry and the current id) has arrived.
  expect(await within(2000, () => stream.lastEventId !== undefined)).toBe(true);
  return stream;
};

test('a listing created, reserved and sold through the API reaches streams on both replicas within a second, with the same ids', async () => {
  const from = address();
  const a = await opensOn(stack.gateway, from);
  const b = await opensOn(second, from);
  expect(a.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(a.res.headers.get('cache-control')).toBe('no-cache, no-transform');
  expect(a.res.headers.get('x-accel-buffering')).toBe('no');
  expect(a.retry).toBe(2000);
  // Not counted by the per-client request limiter: its connection cap is its bound.
  expect(a.res.headers.get('ratelimit')).toBeNull();

  const listing = await api.createListing(seller.accessToken, { title: 'Live ticket', priceCents: 4200 });
  expect(await within(1000, () => a.has(listing.id, 'created') && b.has(listing.id, 'created'))).toBe(true);

  const order = await api.post('/orders', { listingId: listing.id }, buyer.accessToken);
  expect(order.status).toBe(201);
  expect(await within(1000, () => a.has(listing.id, 'reserved') && b.has(listing.id, 'reserved'))).toBe(true);

  const paid = await api.post('/payments', { orderId: order.body.order.id, paymentMethod: 'pm_card_visa' }, buyer.accessToken);
  expect(paid.status).toBe(201);
  expect(await within(1000, () => a.has(listing.id, 'sold') && b.has(listing.id, 'sold'))).toBe(true);

  const seen = a.changes(listing.id);
  expect(seen.map((c) => [c.type, c.listing.status, c.listing.version])).toEqual([
    ['created', 'available', 1],
    ['reserved', 'reserved', 2],
    ['sold', 'sold', 3],
  ]);
  expect(seen.every((c) => /^\d+-\d+$/.test(c.id ?? ''))).toBe(true);
  expect(b.changes(listing.id)).toEqual(seen);

  // Only the public listing: no order, no buyer, nothing the contract does not name.
  const publicFields = Object.keys(contracts.listing.shape).sort();
  for (const stream of [a, b]) {
    for (const event of stream.events.filter((e) => e.event === 'listing')) {
      const data = JSON.parse(event.data) as Record<string, Record<string, unknown>>;
      expect(Object.keys(data).sort()).toEqual(['listing', 'type']);
      expect(Object.keys(data.listing as object).sort()).toEqual(publicFields);
    }
    expect(stream.text).not.toContain(order.body.order.id);
    expect(stream.text).not.toContain(buyer.user.id);
  }
  a.close();
  b.close();
});

test('reconnecting with Last-Event-ID, on either replica, replays exactly the changes missed, then carries on live', async () => {
  const from = address();
  const reference = await opensOn(stack.gateway, from);
  const leaving = await opensOn(stack.gateway, from);
  const listing = await api.createListing(seller.accessToken, { title: 'Changing ticket' });
  expect(await within(1000, () => leaving.has(listing.id, 'created'))).toBe(true);
  const resumeFrom = leaving.lastEventId as string;
  leaving.close();

  // Missed while away: two price changes and another listing's creation.
  for (const priceCents of [3000, 3100]) expect((await api.patch(`/listings/${listing.id}`, { priceCents }, seller.accessToken)).status).toBe(200);
  const other = await api.createListing(seller.accessToken, { title: 'Another ticket' });
  expect(await within(1000, () => reference.has(other.id, 'created'))).toBe(true);
  const seen = reference.changes();
  const missed = seen.slice(seen.findIndex((c) => c.id === resumeFrom) + 1);
  expect(missed.map((c) => c.type)).toEqual(['changed', 'changed', 'created']);

  const resumed = await EventStream.open(second, { from, lastEventId: resumeFrom });
  expect(resumed.status).toBe(200);
  expect(await within(1000, () => resumed.changes().length >= missed.length)).toBe(true);
  expect(resumed.events.some((e) => e.event === 'reset')).toBe(false);
  expect(resumed.changes()).toEqual(missed);

  expect((await api.patch(`/listings/${listing.id}`, { title: 'Changed again' }, seller.accessToken)).status).toBe(200);
  expect(await within(1000, () => reference.changes(listing.id).length === 4 && resumed.changes(listing.id).length === 3)).toBe(true);
  // Each change once, in the same order and with the same ids as on the stream that never left.
  expect(resumed.changes()).toEqual(reference.changes().slice(reference.changes().length - resumed.changes().length));
  reference.close();
  resumed.close();
});

test('an id that is malformed, from the future, before the stream, or older than what is kept gets a reset, then live changes', async () => {
  const from = address();
  const key = `${stack.env.BUS_PREFIX}:live`;
  const kept = await api.createListing(seller.accessToken, { title: 'Kept' });
  const watcher = await opensOn(stack.gateway, from);
  await api.createListing(seller.accessToken, { title: 'Trimmed away' });
  const last = await api.createListing(seller.accessToken, { title: 'Newest' });
  expect(await within(1000, () => watcher.has(last.id, 'created'))).toBe(true);
  const ids = (await stack.gateway.redis.xrange(key, '-', '+')).map(([id]) => id);
  const [oldId, justBefore, newest] = [ids[0], ids[ids.length - 2], ids[ids.length - 1]] as string[];
  watcher.close();

  for (const lastEventId of ['not-an-id', '99999999999999-0', '1-0']) {
    const stream = await EventStream.open(second, { from: address(), lastEventId });
    expect(stream.status).toBe(200);
    expect(await within(1000, () => stream.events.length > 0)).toBe(true);
    expect(stream.events[0]).toMatchObject({ event: 'reset' });
    expect(stream.lastEventId).toMatch(/^\d+-\d+$/);
    expect(stream.changes()).toEqual([]);
    stream.close();
  }

  // Retention passed it by: only the two newest entries are kept, so changes after the oldest id are gone.
  await stack.gateway.redis.xtrim(key, 'MAXLEN', 2);
  const stale = await EventStream.open(stack.gateway, { from: address(), lastEventId: oldId });
  expect(await within(1000, () => stale.events.length > 0)).toBe(true);
  expect(stale.events.map((e) => e.event)).toEqual(['reset']);
  // The reset carries the current id, so the page resumes from there.
  expect(stale.lastEventId).toBe(newest);
  // The oldest id kept: nothing after it is missing, so that is a replay, not a reset.
  const caughtUp = await EventStream.open(second, { from: address(), lastEventId: justBefore });
  expect(await within(1000, () => caughtUp.events.length > 0)).toBe(true);
  expect(caughtUp.events.map((e) => [e.event, e.id])).toEqual([['listing', newest]]);

  // Both carry on with live changes.
  expect((await api.patch(`/listings/${kept.id}`, { priceCents: 2600 }, seller.accessToken)).status).toBe(200);
  expect(await within(1000, () => stale.has(kept.id, 'changed') && caughtUp.has(kept.id, 'changed'))).toBe(true);
  expect(stale.changes().map((c) => c.type)).toEqual(['changed']);
  expect(caughtUp.changes().map((c) => c.type)).toEqual(['created', 'changed']);
  stale.close();
  caughtUp.close();

  // The stream expired (a day without changes): a page that was there is told to reset; one at the
  // very beginning (what a page gets before there ever was a change) just carries on.
  await stack.gateway.redis.del(key);
  const away = await EventStream.open(stack.gateway, { from: address(), lastEventId: newest });
  const fromStart = await EventStream.open(second, { from: address(), lastEventId: '0-0' });
  expect(await within(1000, () => away.events.length > 0)).toBe(true);
  expect(away.events.map((e) => e.event)).toEqual(['reset']);
  expect((await api.patch(`/listings/${kept.id}`, { priceCents: 2700 }, seller.accessToken)).status).toBe(200);
  expect(await within(1000, () => away.has(kept.id, 'changed') && fromStart.has(kept.id, 'changed'))).toBe(true);
  expect(fromStart.events.map((e) => e.event)).toEqual(['listing']);
  away.close();
  fromStart.close();
});

test('an open stream gets a heartbeat comment every SSE_HEARTBEAT_MS', async () => {
  const stream = await opensOn(second, address());
  expect(await within(HEARTBEAT_MS * 5, () => stream.comments.filter((c) => c === 'heartbeat').length >= 2)).toBe(true);
  stream.close();
});

test('a client address holds at most SSE_MAX_PER_CLIENT streams across replicas: the next is a 429 with Retry-After; a closed one frees its place', async () => {
  const from = address();
  const streams = [await opensOn(stack.gateway, from), await opensOn(second, from), await opensOn(stack.gateway, from), await opensOn(second, from)];
  for (const gateway of [stack.gateway, second]) {
    const refused = await EventStream.open(gateway, { from });
    expect(refused.status).toBe(429);
    expect(Number(refused.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.res.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.res.json()).toMatchObject({ status: 429, code: 'too_many_streams' });
  }
  // Another address is another client.
  const elsewhere = await opensOn(second, address());
  elsewhere.close();

  (streams.shift() as EventStream).close();
  let again: EventStream | undefined;
  expect(
    await eventually(async () => {
      const attempt = await EventStream.open(second, { from });
      if (attempt.status === 200) again = attempt;
      return attempt.status === 200;
    }, 2000),
  ).toBe(true);
  expect((await EventStream.open(stack.gateway, { from })).status).toBe(429);
  again?.close();
  for (const stream of streams) stream.close();
});

test('without Redis the stream is a 503 live_updates_unavailable problem', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const cutOff = await startReplica({ REDIS_URL: `redis://127.0.0.1:${port}` });
  const res = await fetch(`http://127.0.0.1:${cutOff.port}/events`);
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).not.toBeNull();
  expect(await res.json()).toMatchObject({ status: 503, code: 'live_updates_unavailable' });
  await cutOff.stop();
  replicas.delete(cutOff);
});

test("a gateway's stop() ends its open streams and gives their places back", async () => {
  const from = address();
  const leaving = await startReplica();
  const streams = await Promise.all([0, 1, 2, 3].map(() => opensOn(leaving, from)));
  let timer: NodeJS.Timeout | undefined;
  const stopped = leaving.stop().then(() => true);
  expect(await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(() => resolve(false), 5000)))])).toBe(true);
  clearTimeout(timer);
  replicas.delete(leaving);
  expect(await within(1000, () => streams.every((s) => s.ended))).toBe(true);
  // Their places were released before stop() returned: the same client opens as many again at once.
  const again = await Promise.all([0, 1, 2, 3].map(() => EventStream.open(second, { from })));
  expect(again.map((s) => s.status)).toEqual([200, 200, 200, 200]);
  for (const stream of [...streams, ...again]) stream.close();
});
